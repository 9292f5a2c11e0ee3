package io.godwit.transport.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.godwit.api.cpu.CpuBackend;
import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.dirty.DirtyTracker;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmSpec;
import io.godwit.coordinator.internal.Coordinator;
import io.godwit.cpu.synthetic.internal.SyntheticBackend;
import io.godwit.kernel.internal.BitmapTracker;
import io.godwit.kernel.internal.VmManagerImpl;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Multifd over a transport that declares {@code MULTI_CHANNEL}, outside OSGi: live, rate-limited sweep
 * migrations with 1, 2 and 4 data channels, and with zlib and zstd compression, each checked with the
 * sweep oracle. A transport's test extends this class as it does {@link MigrationContract}.
 */
@Timeout(180)
public abstract class MultifdContract {

    protected VmManagerImpl vms;
    protected Coordinator coordinator;

    /** The transport under test, constructed directly. */
    protected abstract Transport transport();

    protected abstract String scheme();

    /** A fresh URI for the destination's {@code migrate_incoming}, for example {@code tcp:127.0.0.1:0}. */
    protected abstract String incomingUri() throws IOException;

    @BeforeEach
    void host() {
        vms = new VmManagerImpl();
        vms.addCpuBackend(new SyntheticBackend(), Map.of(CpuBackend.NAME, "synthetic"));
        vms.addDirtyTracker(new BitmapTracker(), Map.of(DirtyTracker.NAME, "bitmap"));
        coordinator = new Coordinator(vms);
        coordinator.addTransport(transport(), Map.of(Transport.SCHEME, scheme()));
    }

    @AfterEach
    void stopHost() throws InterruptedException {
        coordinator.deactivate();
        vms.deactivate();
    }

    @ParameterizedTest(name = "{0} channel(s)")
    @ValueSource(ints = {1, 2, 4})
    void aLiveSweepMigratesOverMultifdChannels(int channels) throws Exception {
        MigrationInfo out = migrate(channels, "none");
        assertEquals(channels, out.multifd().channels(), out.toString());
        assertEquals(1.0, out.multifd().compressionRatio(), 1e-9, out.toString());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"zlib", "zstd"})
    void aLiveSweepMigratesCompressed(String compression) throws Exception {
        MigrationInfo out = migrate(2, compression);
        // the sweep's pages hold a byte each: they compress far better than 2:1
        assertTrue(out.multifd().compressionRatio() > 2, out.toString());
        assertTrue(out.multifd().compressedBytes() < out.multifd().pageBytes() / 2, out.toString());
    }

    /**
     * A sweep guest rewriting its pages while a rate limit keeps the migration iterating for several
     * passes, then the limits lifted; returns the source's figures once both sides completed and the
     * oracle found every page.
     */
    private MigrationInfo migrate(int channels, String compression) throws Exception {
        Vm src = vms.create(VmSpec.builder("src").memory(64 << 20).vcpus(2).workload("sweep:16M,rate=20000").build());
        vms.create(VmSpec.builder("dst").memory(64 << 20).vcpus(2).workload("sweep:16M,rate=20000")
                .incoming("defer").build());
        for (String vm : new String[] {"src", "dst"}) {
            coordinator.setCapability(vm, MigrationCapability.MULTIFD, true);
        }
        coordinator.setParameter("src", MigrationParameter.MULTIFD_CHANNELS, channels);
        coordinator.setParameter("src", MigrationParameter.MULTIFD_COMPRESSION,
                MigrationParameter.MULTIFD_COMPRESSIONS.indexOf(compression));
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 32 << 20);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 1);
        coordinator.incoming("dst", incomingUri());
        coordinator.migrate("src", coordinator.info("dst").listenUri());
        long deadline = System.currentTimeMillis() + 60_000;
        while (coordinator.info("src").ram().dirtySyncCount() < 4 && System.currentTimeMillis() < deadline
                && !coordinator.info("src").status().isFinal()) {
            Thread.sleep(20);
        }
        coordinator.setParameter("src", MigrationParameter.MAX_BANDWIDTH, 0);
        coordinator.setParameter("src", MigrationParameter.DOWNTIME_LIMIT, 2000);
        MigrationInfo out = await("src", 120_000);
        MigrationInfo in = await("dst", 60_000);
        assertEquals(MigrationStatus.COMPLETED, out.status(), String.valueOf(out));
        assertEquals(MigrationStatus.COMPLETED, in.status(), String.valueOf(in));
        assertTrue(out.ram().dirtySyncCount() >= 4, "passes: " + out.ram().dirtySyncCount());
        assertEquals(RunState.POSTMIGRATE, src.state());
        Vm dst = vms.get("dst").orElseThrow();
        assertEquals(RunState.RUNNING, dst.state());
        dst.stop(RunState.PAUSED);
        OracleVerdict verdict = dst.check();
        assertTrue(verdict.clean(), verdict.toString());
        assertTrue(out.multifd().bytes() > 0 && in.multifd().bytes() == out.multifd().bytes(),
                "what the channels carried: source " + out.multifd() + ", destination " + in.multifd());
        return out;
    }

    private MigrationInfo await(String vm, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        MigrationInfo info;
        while (!(info = coordinator.info(vm)).status().isFinal() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        return info;
    }
}
