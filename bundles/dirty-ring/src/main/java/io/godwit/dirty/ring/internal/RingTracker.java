package io.godwit.dirty.ring.internal;

import io.godwit.api.dirty.DirtyLog;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.memory.GuestMemory;
import io.godwit.dirty.common.internal.ExitCost;
import java.util.Map;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;

/**
 * KVM's dirty ring ({@code KVM_CAP_DIRTY_LOG_RING}), simulated on the CPU path: one ring of dirty
 * GFNs per vCPU, filled by write faults, harvested in order and reset (re-protected) by the sync. The
 * mechanism and why it loses no store are on {@link RingLog}.
 *
 * <p>Configuration (DS, or system properties for plain Java): {@value ExitCost#PROPERTY} (ns per VM
 * exit, default 0) and {@value #RING_SIZE_PROPERTY} (entries per vCPU, a power of two from 1024,
 * default {@value #DEFAULT_RING_SIZE}, as QEMU's {@code -accel kvm,dirty-ring-size=4096}). Both are
 * read when a VM is created.
 */
@Component(name = "godwit.dirty.ring", property = DirtyTracker.NAME + "=" + RingTracker.NAME)
public class RingTracker implements DirtyTracker {

    static final String NAME = "ring";
    public static final String RING_SIZE_PROPERTY = "godwit.dirty.ring-size";
    public static final int DEFAULT_RING_SIZE = 4096;

    private volatile long exitCostNs;
    private volatile int ringSize;

    /** For plain Java (tests, benchmarks): both settings from system properties. */
    public RingTracker() {
        this(ExitCost.fromSystem(), ringSize(System.getProperty(RING_SIZE_PROPERTY)));
    }

    public RingTracker(long exitCostNs, int ringSize) {
        this.exitCostNs = exitCostNs;
        this.ringSize = ringSize(Integer.toString(ringSize));
    }

    @Activate
    @Modified
    void activate(BundleContext context, Map<String, Object> properties) {
        exitCostNs = ExitCost.resolve(properties, context.getProperty(ExitCost.PROPERTY));
        Object size = properties.get(RING_SIZE_PROPERTY);
        ringSize = ringSize(size != null ? size.toString() : context.getProperty(RING_SIZE_PROPERTY));
    }

    /** KVM refuses a size that is not a power of two; below 1024 the reserved entries would not fit. */
    static int ringSize(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT_RING_SIZE;
        }
        int n;
        try {
            n = Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(RING_SIZE_PROPERTY + " must be a number of entries: " + text);
        }
        if (n < 1024 || n > (1 << 24) || Integer.bitCount(n) != 1) {
            throw new IllegalArgumentException(RING_SIZE_PROPERTY + " must be a power of two from 1024 to 16M: " + n);
        }
        return n;
    }

    @Override
    public DirtyLog create(GuestMemory memory, int vcpus) {
        return new RingLog(memory.pages(), vcpus, ringSize, exitCostNs);
    }

    @Override
    public String description() {
        return "KVM dirty ring: write protection feeding a " + ringSize + "-entry GFN ring per vCPU, one exit per page"
                + " first written and per soft-full ring; sync harvests the rings in order and resets them";
    }
}
