package io.godwit.shell.internal;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.dirty.DirtyLogging;
import io.godwit.api.memory.GuestMemory;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** A VM that only keeps its state, for unit tests of the commands. */
final class FakeVm implements Vm {

    private final VmSpec spec;
    volatile RunState state;
    volatile String detail = "";
    volatile OracleVerdict verdict = new OracleVerdict(32, 0, List.of(), "32 pages, 1 range, one edge");
    final List<VcpuInfo> cpus = new ArrayList<>();
    volatile String console = "";

    FakeVm(VmSpec spec) {
        this.spec = spec;
        this.state = spec.incoming() != null ? RunState.INMIGRATE
                : spec.startPaused() ? RunState.PRELAUNCH : RunState.RUNNING;
        for (int i = 0; i < spec.vcpus(); i++) {
            cpus.add(new VcpuInfo(i, "vcpu-" + spec.name() + "-" + i, 100 + i, "running", 1000L * (i + 1), "writes",
                    12.5 * (i + 1)));
        }
    }

    @Override
    public String console() {
        return console;
    }

    @Override
    public String name() {
        return spec.name();
    }

    @Override
    public UUID uuid() {
        return spec.uuid();
    }

    @Override
    public VmSpec spec() {
        return spec;
    }

    @Override
    public RunState state() {
        return state;
    }

    @Override
    public String stateDetail() {
        return detail;
    }

    @Override
    public void stop(RunState reason) {
        state = reason;
    }

    @Override
    public RunState stopAndGetPrevious(RunState reason) {
        RunState before = state;
        state = reason;
        return before;
    }

    @Override
    public void cont() {
        if (state == RunState.GUEST_ERROR) {
            throw new IllegalStateException("VM " + name() + " stopped on a guest error: reset it first");
        }
        state = RunState.RUNNING;
    }

    @Override
    public void setStoppedState(RunState s) {
        state = s;
    }

    @Override
    public GuestMemory memory() {
        throw new UnsupportedOperationException();
    }

    @Override
    public DirtyLogging dirtyLogging() {
        return new FakeDirtyLogging(spec.dirtyTracker());
    }

    @Override
    public List<VcpuInfo> cpus() {
        return List.copyOf(cpus);
    }

    @Override
    public void setThrottle(int percent) {}

    @Override
    public int throttle() {
        return 0;
    }

    @Override
    public OracleVerdict check() {
        if (state == RunState.RUNNING) {
            throw new IllegalStateException("VM is running");
        }
        return verdict;
    }

    @Override
    public String describeGuest() {
        return spec.cpuBackend() + " " + spec.workload();
    }

    @Override
    public int vcpuStateVersion(int index) {
        return 1;
    }

    @Override
    public void saveVcpuState(int index, StateOutput out) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void loadVcpuState(int index, StateInput in, int version) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long timeVcpuStateSaves(java.util.function.IntFunction<StateOutput> outputs) {
        throw new UnsupportedOperationException();
    }

    @Override
    public String describeVcpu(int index) {
        return "pc=0x" + Integer.toHexString(0x1000 * (index + 1)) + "\nx1=0x0";
    }
}
