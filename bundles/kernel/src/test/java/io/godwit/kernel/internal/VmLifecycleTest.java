package io.godwit.kernel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VmLifecycleTest {

    private final Host host = new Host();

    @AfterEach
    void close() throws InterruptedException {
        host.close();
    }

    private static long totalProgress(Vm vm) {
        return vm.cpus().stream().mapToLong(VcpuInfo::progress).sum();
    }

    /** Waits for progress beyond {@code writes}: conditions, not sleeps, on a host of unknown load. */
    static void awaitProgress(Vm vm, long writes) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (totalProgress(vm) <= writes) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no progress beyond " + writes + " writes in 60 s");
            }
            Thread.sleep(5);
        }
    }

    @Test
    void sweepRunsStopsAndPassesItsOracle() throws Exception {
        Vm vm = host.create("a", 64 << 20, 2, "sweep");
        assertEquals(RunState.RUNNING, vm.state());
        awaitProgress(vm, 16384);
        vm.stop(RunState.PAUSED);
        assertEquals(RunState.PAUSED, vm.state());
        long p = totalProgress(vm);
        assertTrue(p > 16384, "the sweep wrote " + p + " pages; expected more than one pass");
        Thread.sleep(50);
        assertEquals(p, totalProgress(vm), "a stopped VM must not write");
        OracleVerdict v = vm.check();
        assertTrue(v.clean(), v.toString());
        assertEquals(16384, v.pagesChecked());
        vm.cont();
        awaitProgress(vm, p); // cont resumes the vCPUs
    }

    /**
     * A migration's stop against a user hammering stop and cont from another thread: once the
     * migration's stop returned, nothing the user does runs the guest again until the migration hands
     * the run state back (a cont whose checks passed before the stop must not resume it after).
     */
    @Test
    void theMigrationsStopWinsAgainstTheUsersContAndStop() throws Exception {
        Vm vm = host.create("m", 16 << 20, 2, "sweep");
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong refused = new java.util.concurrent.atomic.AtomicLong();
        Thread user = Thread.ofPlatform().name("user").start(() -> {
            while (!done.get()) {
                try {
                    vm.stop(RunState.PAUSED);
                    vm.cont();
                } catch (IllegalStateException e) {
                    refused.incrementAndGet();
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try {
            for (int round = 0; round < 20; round++) {
                RunState before = vm.stopAndGetPrevious(RunState.FINISH_MIGRATE);
                assertTrue(before == RunState.RUNNING || before == RunState.PAUSED, before.toString());
                long p = totalProgress(vm);
                Thread.sleep(30);
                assertEquals(RunState.FINISH_MIGRATE, vm.state(), "round " + round);
                assertEquals(p, totalProgress(vm), "the guest ran in finish-migrate, round " + round);
                vm.setStoppedState(RunState.PAUSED); // the migration failed: the run state is the user's again
                vm.cont();
            }
        } finally {
            done.set(true);
            user.join();
        }
        assertTrue(refused.get() > 0, "the user's commands were never refused: the race was not exercised");
        vm.stop(RunState.PAUSED);
        assertTrue(vm.check().clean());
    }

    @Test
    void timedSavesTakeEachRunningVcpusStateOnItsOwnThreadAndTheGuestRunsOn() throws Exception {
        Vm vm = host.create("t", 16 << 20, 3, "sweep");
        awaitProgress(vm, 1000);
        java.util.List<java.util.List<String>> fields = new java.util.ArrayList<>();
        String[] threads = new String[3];
        for (int i = 0; i < 3; i++) {
            fields.add(new java.util.concurrent.CopyOnWriteArrayList<>());
        }
        long nanos = vm.timeVcpuStateSaves(i -> new RecordingOutput(fields.get(i), threads, i));
        assertTrue(nanos > 0, "the saves took " + nanos + " ns");
        for (int i = 0; i < 3; i++) {
            assertFalse(fields.get(i).isEmpty(), "vCPU " + i + " saved nothing");
            assertEquals("vcpu-t-" + i, threads[i], "vCPU " + i + " saved on its own thread");
        }
        assertEquals(RunState.RUNNING, vm.state());
        awaitProgress(vm, totalProgress(vm)); // the guest runs on

        vm.stop(RunState.PAUSED); // parked: saved on the caller's thread, as saveVcpuState would
        java.util.List<String> parked = new java.util.ArrayList<>();
        vm.timeVcpuStateSaves(i -> new RecordingOutput(i == 0 ? parked : new java.util.ArrayList<>(), threads, i));
        assertEquals(Thread.currentThread().getName(), threads[0]);
        java.util.List<String> saved = new java.util.ArrayList<>();
        vm.saveVcpuState(0, new RecordingOutput(saved, new String[3], 0));
        assertEquals(saved, parked, "the same state as a migration's save");
    }

    /** Records each field written, and the thread that wrote the first. */
    private record RecordingOutput(java.util.List<String> fields, String[] threads, int index)
            implements io.godwit.api.state.StateOutput {
        private void add(Object v) {
            if (fields.isEmpty()) {
                threads[index] = Thread.currentThread().getName();
            }
            fields.add(String.valueOf(v));
        }

        @Override
        public void writeBoolean(boolean value) {
            add(value);
        }

        @Override
        public void writeInt(int value) {
            add(value);
        }

        @Override
        public void writeLong(long value) {
            add(value);
        }

        @Override
        public void writeDouble(double value) {
            add(value);
        }

        @Override
        public void writeBytes(byte[] value) {
            add(java.util.Arrays.toString(value));
        }

        @Override
        public void writeString(String value) {
            add(value);
        }

        @Override
        public void subsection(String name, java.util.function.Consumer<io.godwit.api.state.StateOutput> body) {
            add(name);
            body.accept(this);
        }
    }

    /** Parked and halted vCPUs wait: they must not wake each other in turn (they once did, burning a core). */
    @Test
    void parkedAndHaltedVcpusDoNotSpin() throws Exception {
        KernelVm paused = (KernelVm) host.manager.create(VmSpec.builder("p").memory(16 << 20).vcpus(2).paused(true).build());
        KernelVm halted = (KernelVm) host.create("h", 16 << 20, 2, "fill"); // fills, then halts
        awaitProgress(halted, 4095);
        long[] before = {wakeups(paused), wakeups(halted)};
        long t0 = System.nanoTime();
        Thread.sleep(1000);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long pausedWakeups = wakeups(paused) - before[0];
        long haltedWakeups = wakeups(halted) - before[1];
        // Paused: nothing to do, no wake-up at all. Halted: a look every 10 ms per vCPU, a few turns
        // of the loop each (the deadline, the run, a peer parking); spinning vCPUs make tens of thousands.
        assertEquals(0, pausedWakeups, "a paused VM's vCPUs woke " + pausedWakeups + " times");
        assertTrue(haltedWakeups <= 2 * 5 * 100 * seconds + 50, "a halted VM's vCPUs woke " + haltedWakeups
                + " times in " + seconds + " s");
    }

    /**
     * A rate-limited sweep halts between its bursts, most of the time: {@code info cpus} must show it
     * running (it showed halted), and a guest that halts for good (fill, once done) as halted.
     */
    @Test
    void aRateLimitedVcpuIsRunningAndAnIdleOneHalted() throws Exception {
        Vm limited = host.create("r", 16 << 20, 1, "sweep:rate=500");
        Vm done = host.create("f", 16 << 20, 1, "fill");
        awaitProgress(limited, 64);
        for (int i = 0; i < 40; i++) {
            assertEquals("running", limited.cpus().get(0).state(), "sample " + i + " of a rate-limited vCPU");
            Thread.sleep(10);
        }
        awaitProgress(done, 4095);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!"halted".equals(done.cpus().get(0).state())) {
            assertTrue(System.nanoTime() < deadline, "a vCPU that finished its fill never showed as halted");
            Thread.sleep(20);
        }
    }

    @Test
    void eachVcpuReportsItsHostThreadIdAsQemuDoes() throws Exception {
        Vm vm = host.create("t", 16 << 20, 2, "sweep:rate=500");
        awaitProgress(vm, 64);
        for (var cpu : vm.cpus()) {
            // The host's task of that id is the vCPU's own thread: its name, as the kernel keeps it
            // (15 bytes), is the thread's. A JVM thread id names no task, or another thread.
            java.nio.file.Path comm = java.nio.file.Path.of("/proc/self/task", Long.toString(cpu.threadId()), "comm");
            assertTrue(java.nio.file.Files.exists(comm), "no host thread " + cpu.threadId() + " for " + cpu.thread());
            String name = cpu.thread().length() > 15 ? cpu.thread().substring(0, 15) : cpu.thread();
            assertEquals(name, java.nio.file.Files.readString(comm).strip(), "host thread " + cpu.threadId());
        }
    }

    private static long wakeups(KernelVm vm) {
        synchronized (vm.lock) {
            long n = 0;
            for (VcpuRunner r : vm.runners()) {
                n += r.wakeupsLocked();
            }
            return n;
        }
    }

    @Test
    void oracleCatchesAStalePageAndGarbage() throws Exception {
        Vm vm = host.create("a", 16 << 20, 1, "sweep");
        Thread.sleep(200);
        vm.stop(RunState.PAUSED);
        var ram = vm.memory().blocks().get(0).raw();
        long page = 1000;
        byte b = ram.get(ValueLayout.JAVA_BYTE, page * 4096);
        ram.set(ValueLayout.JAVA_BYTE, page * 4096, (byte) (b - 2)); // a page two passes old
        ram.set(ValueLayout.JAVA_BYTE, 3000 * 4096 + 17, (byte) 1); // garbage after the first byte
        OracleVerdict v = vm.check();
        assertEquals(2, v.badPages(), v.toString());
        assertFalse(v.clean());
    }

    @Test
    void sweepRangeLeavesTheRestZeroAndIdleTouchesNothing() throws Exception {
        Vm sweep = host.create("s", 32 << 20, 2, "sweep:8M");
        Vm idle = host.create("i", 32 << 20, 1, "idle");
        Thread.sleep(150);
        sweep.stop(RunState.PAUSED);
        idle.stop(RunState.PAUSED);
        assertTrue(sweep.check().clean());
        assertTrue(idle.check().clean());
        idle.memory().blocks().get(0).raw().set(ValueLayout.JAVA_BYTE, 5 << 20, (byte) 9);
        assertEquals(1, idle.check().badPages());
        sweep.memory().blocks().get(0).raw().set(ValueLayout.JAVA_BYTE, 20 << 20, (byte) 9);
        assertEquals(1, sweep.check().badPages());
    }

    @Test
    void fillWritesThePatternOnceAndItsOracleSeesMixedPages() throws Exception {
        Vm vm = host.create("f", 16 << 20, 2, "fill");
        awaitProgress(vm, 4095);
        vm.stop(RunState.PAUSED);
        assertEquals(4096, totalProgress(vm));
        assertTrue(vm.check().clean());
        var ram = vm.memory().blocks().get(0).raw();
        ram.set(ValueLayout.JAVA_LONG, 10 * 4096 + 64, 0L);
        assertEquals(1, vm.check().badPages());
    }

    @Test
    void checkRefusesARunningVm() {
        Vm vm = host.create("a", 8 << 20, 1, "sweep");
        IllegalStateException e = assertThrows(IllegalStateException.class, vm::check);
        assertTrue(e.getMessage().contains("stop it first"), e.getMessage());
    }

    @Test
    void pausedAndIncomingVmsDoNotRun() throws Exception {
        Vm paused = host.manager.create(VmSpec.builder("p").memory(8 << 20).workload("sweep").paused(true).build());
        Vm in = host.manager.create(VmSpec.builder("q").memory(8 << 20).workload("sweep").incoming("defer").build());
        Thread.sleep(100);
        assertEquals(RunState.PRELAUNCH, paused.state());
        assertEquals(RunState.INMIGRATE, in.state());
        assertEquals(0, totalProgress(paused) + totalProgress(in));
        assertThrows(IllegalStateException.class, in::cont);
        paused.cont();
        awaitProgress(paused, 0);
    }

    @Test
    void badInputIsAOneLineError() {
        host.create("a", 8 << 20, 1, "idle");
        assertMessage("already exists", () -> host.create("a", 8 << 20, 1, "idle"));
        assertMessage("unknown workload 'nope'", () -> host.create("b", 8 << 20, 1, "nope"));
        assertMessage("unknown CPU backend 'x'",
                () -> host.manager.create(VmSpec.builder("c").cpu("x").build()));
        assertMessage("unknown dirty tracker 'y'",
                () -> host.manager.create(VmSpec.builder("d").dirtyTracker("y").build()));
        assertMessage("cannot allocate", () -> host.create("e", 1L << 50, 1, "idle"));
        assertMessage("does not fit", () -> host.create("f", 8 << 20, 1, "sweep:16M"));
        assertMessage("no option 'speed'", () -> host.create("g", 8 << 20, 1, "sweep:speed=3"));
        assertEquals(1, host.manager.list().size(), "failed creates leave nothing behind");
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void destroyEndsTheVcpuThreads() throws Exception {
        Vm vm = host.create("a", 8 << 20, 2, "sweep");
        var threads = vm.cpus().stream().map(VcpuInfo::thread).toList();
        assertEquals(java.util.List.of("vcpu-a-0", "vcpu-a-1"), threads);
        host.manager.destroy("a");
        assertTrue(host.manager.get("a").isEmpty());
        boolean alive = Thread.getAllStackTraces().keySet().stream().anyMatch(t -> threads.contains(t.getName()));
        assertFalse(alive, "vCPU threads must end with their VM");
    }

    /**
     * A listener is told on the destroying thread, with the VM out of the registry but whole (its RAM
     * readable), and a listener that throws does not stop the destroy.
     */
    @Test
    void destroyTellsListenersWhileTheVmIsWhole() throws Exception {
        Vm vm = host.create("a", 8 << 20, 1, "idle");
        java.util.List<String> told = new java.util.ArrayList<>();
        host.manager.addListener(v -> {
            throw new IllegalStateException("a broken listener");
        });
        host.manager.addListener(v -> told.add(v.name() + " registered=" + host.manager.get(v.name()).isPresent()
                + " ram=" + v.memory().blocks().get(0).raw().get(ValueLayout.JAVA_BYTE, 0)));
        host.manager.destroy("a");
        assertEquals(java.util.List.of("a registered=false ram=0"), told);
        assertTrue(host.manager.get("a").isEmpty());
        assertThrows(IllegalStateException.class, () -> vm.memory().blocks().get(0).raw().get(ValueLayout.JAVA_BYTE, 0),
                "the RAM is freed after the listeners");
    }

    /**
     * VmListener.runStateChanged: every change, in order, on the thread that made it, none for a
     * "change" to the same state; a listener that throws changes nothing.
     */
    @Test
    void everyRunStateChangeIsToldInOrderOnTheThreadThatMadeIt() throws Exception {
        java.util.List<String> told = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        host.manager.addListener(new io.godwit.api.vm.VmListener() {
            @Override
            public void destroying(Vm vm) {}

            @Override
            public void runStateChanged(Vm vm, RunState from, RunState to) {
                throw new IllegalStateException("a broken listener");
            }
        });
        host.manager.addListener(new io.godwit.api.vm.VmListener() {
            @Override
            public void destroying(Vm vm) {}

            @Override
            public void runStateChanged(Vm vm, RunState from, RunState to) {
                told.add(vm.name() + " " + from + "->" + to + " on " + Thread.currentThread().getName());
            }
        });
        Vm vm = host.create("a", 8 << 20, 1, "sweep");
        String main = Thread.currentThread().getName();
        vm.stop(RunState.PAUSED);
        vm.stop(RunState.PAUSED); // already paused: no change
        Thread.ofPlatform().name("user").start(vm::cont).join();
        assertEquals(RunState.RUNNING, vm.stopAndGetPrevious(RunState.FINISH_MIGRATE));
        vm.setStoppedState(RunState.POSTMIGRATE);
        vm.setStoppedState(RunState.POSTMIGRATE);
        Thread.ofPlatform().name("vcpu-like").start(
                () -> ((KernelVm) vm).guestStopped(RunState.GUEST_ERROR, "vcpu 0: illegal instruction")).join();
        assertEquals(java.util.List.of(
                "a prelaunch->running on " + main,
                "a running->paused on " + main,
                "a paused->running on user",
                "a running->finish-migrate on " + main,
                "a finish-migrate->postmigrate on " + main,
                "a postmigrate->guest-error on vcpu-like"), told);
    }

    @Test
    void guestErrorStopsTheVmWithItsReason() throws Exception {
        Vm vm = host.create("a", 8 << 20, 1, "sweep");
        ((KernelVm) vm).guestStopped(RunState.GUEST_ERROR, "vcpu 0: illegal instruction (pc 0x80)");
        assertEquals(RunState.GUEST_ERROR, vm.state());
        assertTrue(vm.stateDetail().contains("pc 0x80"));
        assertThrows(IllegalStateException.class, vm::cont);
    }
}
