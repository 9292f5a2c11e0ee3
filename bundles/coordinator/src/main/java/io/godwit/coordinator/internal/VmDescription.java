package io.godwit.coordinator.internal;

import com.google.protobuf.ByteString;
import io.godwit.api.memory.RamBlock;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.vm.Vm;
import io.godwit.wire.WireLimits;
import io.godwit.wire.proto.Hello;
import io.godwit.wire.proto.RamBlockInfo;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;

/**
 * The hello: what the source sends about its VM, and the destination's check of it against its own
 * VM, so that an incompatible VM is refused before a single page is loaded.
 */
final class VmDescription {

    private VmDescription() {}

    static Hello hello(Vm vm, List<String> capabilities) {
        Hello.Builder h = Hello.newBuilder()
                .setVmName(vm.name())
                .setUuid(ByteString.copyFrom(uuidBytes(vm.uuid())))
                .setPageSize(RamBlock.PAGE_SIZE)
                .setVcpus(vm.spec().vcpus())
                .setCpuBackend(vm.spec().cpuBackend())
                .setWorkload(vm.spec().workload())
                .addAllCapabilities(capabilities);
        for (RamBlock b : vm.memory().blocks()) {
            h.addBlocks(RamBlockInfo.newBuilder().setName(b.name()).setBase(b.base()).setSize(b.size()));
        }
        for (int i = 0; i < vm.spec().vcpus(); i++) {
            h.addVcpuStateVersions(vm.vcpuStateVersion(i));
        }
        DeviceSections.describe(vm, h);
        return h.build();
    }

    /**
     * Checks a source's hello against the destination VM.
     *
     * @throws MigrationFailure saying what differs
     */
    static void check(Hello hello, Vm vm) {
        if (hello.getPageSize() != RamBlock.PAGE_SIZE) {
            throw new MigrationFailure("the source's page size " + Integer.toUnsignedString(hello.getPageSize())
                    + " is not 4096");
        }
        List<RamBlock> mine = vm.memory().blocks();
        if (hello.getBlocksCount() > WireLimits.MAX_BLOCKS || hello.getBlocksCount() != mine.size()) {
            throw new MigrationFailure("the source has " + hello.getBlocksCount() + " RAM blocks, this VM " + mine.size());
        }
        for (int i = 0; i < mine.size(); i++) {
            RamBlockInfo theirs = hello.getBlocks(i);
            RamBlock b = mine.get(i);
            if (!theirs.getName().equals(b.name()) || theirs.getSize() != b.size() || theirs.getBase() != b.base()) {
                throw new MigrationFailure(String.format(
                        "RAM block '%s' of %d bytes at 0x%x does not match this VM's '%s' of %d bytes at 0x%x",
                        Printable.quote(theirs.getName()), theirs.getSize(), theirs.getBase(), b.name(), b.size(),
                        b.base()));
            }
        }
        if (hello.getVcpus() != vm.spec().vcpus()) {
            throw new MigrationFailure("the source has " + Integer.toUnsignedString(hello.getVcpus()) + " vCPUs, this VM "
                    + vm.spec().vcpus());
        }
        if (!hello.getCpuBackend().equals(vm.spec().cpuBackend()) || !hello.getWorkload().equals(vm.spec().workload())) {
            throw new MigrationFailure("the source runs " + Printable.quote(hello.getCpuBackend()) + " '"
                    + Printable.quote(hello.getWorkload()) + "', this VM " + vm.spec().cpuBackend() + " '" + vm.spec().workload() + "'");
        }
        for (int i = 0; i < hello.getVcpuStateVersionsCount(); i++) {
            int theirs = hello.getVcpuStateVersions(i); // a uint32: compared unsigned, 2^31 is newer, not older
            if (Integer.compareUnsigned(theirs, vm.vcpuStateVersion(Math.min(i, vm.spec().vcpus() - 1))) > 0) {
                throw new MigrationFailure("vCPU " + i + " state version " + Integer.toUnsignedString(theirs)
                        + " is newer than this host supports");
            }
        }
        DeviceSections.check(hello, vm);
        if (hello.getCapabilitiesList().contains(MigrationCapability.VALIDATE_UUID.qemuName())) {
            UUID theirs = uuid(hello.getUuid());
            if (!vm.uuid().equals(theirs)) {
                throw new MigrationFailure("UUID mismatch: the source VM is " + theirs + ", this VM is " + vm.uuid());
            }
        }
    }

    static byte[] uuidBytes(UUID u) {
        return ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
    }

    static UUID uuid(ByteString b) {
        if (b.size() != 16) {
            throw new MigrationFailure("the source sent a UUID of " + b.size() + " bytes");
        }
        ByteBuffer buf = b.asReadOnlyByteBuffer();
        return new UUID(buf.getLong(), buf.getLong());
    }
}
