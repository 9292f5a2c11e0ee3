package io.godwit.api.dirty;

import java.util.Map;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A tracker's state for one VM. The kernel drives it: it installs {@link #hook}s on the CPU path
 * while logging is on and calls {@link #sync} from the migration thread.
 *
 * <p>The contract every tracker keeps: a store that completes before a {@link #sync} returns is in
 * that sync's harvest or in the next one; a page nobody stored to since the previous harvest is not
 * reported.
 */
@ConsumerType
public interface DirtyLog {

    /** The write hook of vCPU {@code vcpu}, made once and used only on that vCPU's thread. */
    WriteHook hook(int vcpu);

    /**
     * Turns logging on with every page clean (KVM_MEM_LOG_DIRTY_PAGES). Called on the migration
     * thread before the kernel installs the hooks.
     */
    void start(VcpuRendezvous vcpus) throws InterruptedException;

    /**
     * Harvests every page stored to since the previous harvest into {@code target} (by OR) and re-arms
     * the mechanism, in the order that loses no store. Called on the migration thread; may kick the
     * vCPUs through {@code vcpus} and wait for them.
     *
     * @return the number of pages harvested
     */
    long sync(DirtyBitmap target, VcpuRendezvous vcpus) throws InterruptedException;

    /** Turns logging off. Called on the migration thread after the kernel removed the hooks. */
    void stop();

    /** Counters for {@code info dirty}: exits, faults, kicks, sync time; names in kebab case. */
    Map<String, Long> stats();
}
