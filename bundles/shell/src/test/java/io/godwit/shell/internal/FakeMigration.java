package io.godwit.shell.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationInfo.RamStats;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.MigrationStatus;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A migration service that plays back scripted snapshots: each {@link #info} call takes the next
 * one, and the last one stays. Calls are recorded as lines such as {@code migrate a tcp:h:1}.
 */
final class FakeMigration implements MigrationService {

    static final long GIB = 1L << 30;

    private final FakeVmManager vms;
    private final Map<String, Deque<MigrationInfo>> snapshots = new HashMap<>();
    private final Map<String, List<MigrationInfo>> afterCancel = new HashMap<>();
    private final Map<String, Map<MigrationCapability, Boolean>> capabilities = new HashMap<>();
    private final Map<String, Map<MigrationParameter, Long>> parameters = new HashMap<>();
    final List<String> calls = new ArrayList<>();
    /** Thrown by migrate and incoming when set, as the coordinator refuses. */
    RuntimeException refusal;

    FakeMigration(FakeVmManager vms) {
        this.vms = vms;
    }

    /** The snapshots info returns from now on, one per call; the last one repeats. */
    synchronized FakeMigration play(String vm, MigrationInfo... infos) {
        snapshots.put(vm, new ArrayDeque<>(List.of(infos)));
        return this;
    }

    /** What info returns once cancel was called. */
    synchronized FakeMigration onCancel(String vm, MigrationInfo... infos) {
        afterCancel.put(vm, List.of(infos));
        return this;
    }

    private String known(String vm) {
        if (vms.get(vm).isEmpty()) {
            throw new IllegalArgumentException("no VM named '" + vm + "'");
        }
        return vm;
    }

    /** What {@link #history} returns, for every VM. */
    volatile io.godwit.api.migration.MigrationHistory history = io.godwit.api.migration.MigrationHistory.NONE;

    @Override
    public io.godwit.api.migration.MigrationHistory history(String vm) {
        known(vm);
        return history;
    }

    @Override
    public synchronized void recoverPostcopy(String vm, String uri) {
        calls.add("recover " + known(vm) + " " + uri);
    }

    @Override
    public synchronized void pausePostcopy(String vm) {
        calls.add("pause " + known(vm));
    }

    @Override
    public synchronized void resumePostcopy(String vm, String uri) {
        calls.add("resume " + known(vm) + " " + uri);
    }

    @Override
    public synchronized void startPostcopy(String vm) {
        if (!capability(known(vm), MigrationCapability.POSTCOPY_RAM)) {
            throw new IllegalStateException("postcopy-ram is not on for VM '" + vm + "'");
        }
        calls.add("postcopy " + vm);
    }

    @Override
    public synchronized void migrate(String vm, String uri) {
        calls.add("migrate " + known(vm) + " " + uri);
        if (refusal != null) {
            throw refusal;
        }
    }

    @Override
    public synchronized void incoming(String vm, String uri) {
        calls.add("incoming " + known(vm) + " " + uri);
        if (refusal != null) {
            throw refusal;
        }
        play(vm, new MigrationInfo(MigrationStatus.SETUP, 0, -1, -1, -1, -1, RamStats.EMPTY, 0,
                uri.replaceFirst(":0$", ":41234"), null));
    }

    @Override
    public synchronized void cancel(String vm) {
        calls.add("cancel " + known(vm));
        List<MigrationInfo> next = afterCancel.get(vm);
        if (next != null) {
            play(vm, next.toArray(MigrationInfo[]::new));
        }
    }

    @Override
    public synchronized void continueMigration(String vm) {
        calls.add("continue " + known(vm));
        if (current(vm).status() != MigrationStatus.PRE_SWITCHOVER) {
            throw new IllegalStateException("the migration of VM '" + vm + "' is not in pre-switchover");
        }
    }

    @Override
    public synchronized void setCapability(String vm, MigrationCapability capability, boolean on) {
        calls.add("capability " + known(vm) + " " + capability + " " + on);
        capabilities.computeIfAbsent(vm, v -> new EnumMap<>(MigrationCapability.class)).put(capability, on);
    }

    @Override
    public synchronized boolean capability(String vm, MigrationCapability capability) {
        return capabilities.getOrDefault(known(vm), Map.of()).getOrDefault(capability, capability.defaultValue());
    }

    @Override
    public synchronized void setParameter(String vm, MigrationParameter parameter, long value) {
        calls.add("parameter " + known(vm) + " " + parameter + " " + value);
        parameters.computeIfAbsent(vm, v -> new EnumMap<>(MigrationParameter.class)).put(parameter, value);
    }

    private final Map<String, Map<io.godwit.api.migration.MigrationTextParameter, String>> texts = new HashMap<>();

    @Override
    public synchronized void setParameter(String vm, io.godwit.api.migration.MigrationTextParameter parameter, String value) {
        calls.add("parameter " + known(vm) + " " + parameter + " " + value);
        texts.computeIfAbsent(vm, v -> new HashMap<>()).put(parameter, value);
    }

    @Override
    public synchronized String parameter(String vm, io.godwit.api.migration.MigrationTextParameter parameter) {
        return texts.getOrDefault(known(vm), Map.of()).getOrDefault(parameter, "");
    }

    @Override
    public String tls(String vm) {
        return null;
    }

    @Override
    public synchronized long parameter(String vm, MigrationParameter parameter) {
        return parameters.getOrDefault(known(vm), Map.of()).getOrDefault(parameter, parameter.defaultValue());
    }

    @Override
    public synchronized MigrationInfo info(String vm) {
        known(vm);
        Deque<MigrationInfo> q = snapshots.get(vm);
        if (q == null || q.isEmpty()) {
            return MigrationInfo.none();
        }
        return q.size() > 1 ? q.poll() : q.peek();
    }

    private MigrationInfo current(String vm) {
        Deque<MigrationInfo> q = snapshots.get(vm);
        return q == null || q.isEmpty() ? MigrationInfo.none() : q.peek();
    }

    /** A snapshot of an outgoing migration of 1 GiB of RAM in pass {@code pass}. */
    static MigrationInfo at(MigrationStatus status, long pass, long remaining) {
        long sent = GIB - remaining + Math.max(0, pass - 1) * (64L << 20);
        RamStats ram = new RamStats(sent, remaining, GIB, 1000, sent / 4096, sent, pass, 2000, 8000.0, 240000);
        return new MigrationInfo(status, 100 * pass, 5, status == MigrationStatus.ACTIVE ? 120 : -1, -1, -1, ram,
                0, null, null);
    }

    static MigrationInfo ended(MigrationStatus status, String error) {
        RamStats ram = new RamStats(GIB + (128L << 20), 0, GIB, 200000, 62144, 62144L * 4096, 3, 0, 3520.125,
                100000);
        return new MigrationInfo(status, 2345, 3, -1, status == MigrationStatus.COMPLETED ? 41 : -1,
                status == MigrationStatus.COMPLETED ? 58 : -1, ram, 0, null, error);
    }

    /** Two transports, as a host with tcp and exec installed. */
    @Override
    public List<io.godwit.api.migration.TransportInfo> transports() {
        return List.of(
                new io.godwit.api.migration.TransportInfo("exec", "io.godwit.transport-exec 0.1.0", java.util.Set.of()),
                new io.godwit.api.migration.TransportInfo("tcp", "io.godwit.transport-tcp 0.1.0",
                        java.util.Set.of(io.godwit.api.transport.TransportCapability.BIDIRECTIONAL,
                                io.godwit.api.transport.TransportCapability.MULTI_CHANNEL)));
    }
}
