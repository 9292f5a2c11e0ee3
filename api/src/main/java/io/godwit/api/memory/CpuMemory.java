package io.godwit.api.memory;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The CPU path into guest RAM for one vCPU: every store passes the active dirty tracker's write hook,
 * or a store window that hook opened (see {@link io.godwit.api.dirty.WriteHook#onWriteCacheable}), the
 * way a store under KVM passes the EPT dirty bit or under TCG the softmmu's dirty check.
 *
 * <p>Implemented by the kernel, one instance per vCPU, and used only on that vCPU's thread. Values are
 * little endian. Every access must lie inside one {@link RamBlock}; otherwise a {@link GuestMemoryFault}
 * is thrown and nothing is written.
 */
@ProviderType
public interface CpuMemory {

    byte load8(long gpa);

    short load16(long gpa);

    int load32(long gpa);

    long load64(long gpa);

    void store8(long gpa, byte value);

    void store16(long gpa, short value);

    void store32(long gpa, int value);

    void store64(long gpa, long value);
}
