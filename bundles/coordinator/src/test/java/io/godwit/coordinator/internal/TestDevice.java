package io.godwit.coordinator.internal;

import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceContext;
import io.godwit.api.device.DeviceFactory;
import io.godwit.api.device.IterativeState;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import java.util.Map;

/**
 * A device for stream tests, configured per side: {@code version} (written and the newest loaded),
 * {@code min} (oldest loaded), {@code fields} (longs written and read), {@code sub} (an optional
 * subsection written), {@code knows} (subsections the loader asks for), {@code direct=true} (writes
 * guest RAM directly, without registering a dirty log), {@code iterative=fail} (an iterative state
 * whose setup throws).
 */
public final class TestDevice implements Device {

    public static final String TYPE = "test-dev";

    /** The factory to register as a whiteboard service. */
    public static DeviceFactory factory() {
        return (DeviceContext ctx, Map<String, String> o) -> new TestDevice(o);
    }

    private final int version;
    private final int min;
    private final int fields;
    private final String sub;
    private final String knows;
    private final boolean direct;
    private final boolean iterativeFails;
    volatile long loadedSum = -1;
    final java.util.concurrent.atomic.AtomicInteger cleanups = new java.util.concurrent.atomic.AtomicInteger();
    volatile String loadedSub;

    TestDevice(Map<String, String> o) {
        this.version = Integer.parseInt(o.getOrDefault("version", "1"));
        this.min = Integer.parseInt(o.getOrDefault("min", String.valueOf(version)));
        this.fields = Integer.parseInt(o.getOrDefault("fields", "2"));
        this.sub = o.get("sub");
        this.knows = o.getOrDefault("knows", "");
        this.direct = Boolean.parseBoolean(o.getOrDefault("direct", "false"));
        this.iterativeFails = "fail".equals(o.get("iterative"));
    }

    @Override
    public void realize() { }

    @Override
    public void reset() { }

    @Override
    public void pause() { }

    @Override
    public void resume() { }

    @Override
    public void unrealize() { }

    @Override
    public int stateVersion() {
        return version;
    }

    @Override
    public int minimumStateVersion() {
        return min;
    }

    @Override
    public boolean writesGuestMemoryDirectly() {
        return direct;
    }

    @Override
    public java.util.Optional<IterativeState> iterativeState() {
        if (!iterativeFails) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new IterativeState() {
            @Override
            public void saveSetup(StateOutput out) {
                throw new IllegalStateException("the disk is gone");
            }

            @Override
            public long pending() {
                return 0;
            }

            @Override
            public boolean saveIterate(StateOutput out, long maxBytes) {
                return true;
            }

            @Override
            public void saveComplete(StateOutput out) { }

            @Override
            public void cleanup() {
                cleanups.incrementAndGet();
            }

            @Override
            public void load(StateInput in) { }
        });
    }

    @Override
    public void saveState(StateOutput out) {
        for (int i = 0; i < fields; i++) {
            out.writeLong(1000 + i);
        }
        if (sub != null) {
            out.subsection(sub, s -> s.writeString("from the source"));
        }
    }

    @Override
    public void loadState(StateInput in, int v) {
        long sum = 0;
        for (int i = 0; i < fields; i++) {
            sum += in.readLong();
        }
        for (String name : knows.split("\\+")) {
            if (!name.isEmpty()) {
                in.subsection(name).ifPresent(s -> loadedSub = s.readString(64));
            }
        }
        loadedSum = sum;
    }
}
