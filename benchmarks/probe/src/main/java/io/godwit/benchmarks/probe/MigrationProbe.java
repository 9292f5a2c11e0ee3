package io.godwit.benchmarks.probe;

import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmManager;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The migration benchmark's clocks inside the host, where a monitor client (a JVM that takes half a
 * second or more to start on a loaded machine) would miss the moment: wait for a pass of the
 * outgoing migration (then {@code migrate_start_postcopy} in the same script); the guest's progress
 * (the {@code PROGRESS} column of {@code info cpus}, all vCPUs) over a time; and a watch of one
 * migration to its end, for the throttle it ended with (the end sets it back to 0, so
 * {@code info migrate} no longer shows it) and the guest's progress over the whole
 * {@code postcopy-active} phase.
 *
 * <p>The progress is counted over the phase rather than read from {@code RATE/S}: that rate is
 * sampled by the vCPU thread itself every 500 ms, so a vCPU blocked on a missing page shows the rate
 * it had before it blocked.
 */
@Component(
        service = MigrationProbe.class,
        immediate = true, // a watch outlives the command that started it: keep the instance
        property = {
            "osgi.command.scope=bench",
            "osgi.command.function=pass_wait",
            "osgi.command.function=progress_rate",
            "osgi.command.function=migration_watch",
            "osgi.command.function=migration_wait",
            "osgi.command.function=end_wait"
        })
public final class MigrationProbe {

    /** How often the watches look: a postcopy phase lasts a second or more, its start is a point. */
    private static final long POLL_MICROS = 500;

    private final MigrationService migrations;
    private final VmManager vms;
    private volatile Watch watch;

    @Activate
    public MigrationProbe(@Reference MigrationService migrations, @Reference VmManager vms) {
        this.migrations = migrations;
        this.vms = vms;
    }

    @Deactivate
    void deactivate() {
        Watch w = watch;
        if (w != null) {
            w.thread.interrupt();
        }
    }

    @Descriptor("wait until the outgoing migration of NAME is active with its dirty sync count at PASS or more;"
            + " fails when it ends first or after SECONDS")
    public String pass_wait(@Descriptor("the VM") String name, @Descriptor("the dirty sync count") String pass,
            @Descriptor("seconds to wait at most") String seconds) throws InterruptedException {
        long wanted = Long.parseLong(pass);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(seconds));
        boolean started = false;
        while (System.nanoTime() < deadline) {
            MigrationInfo i = migrations.info(name);
            started |= !i.status().isFinal(); // a final state before the start is another migration's
            if (i.status() == MigrationStatus.ACTIVE && i.ram().dirtySyncCount() >= wanted) {
                return "dirty sync count " + i.ram().dirtySyncCount() + " after " + i.totalTimeMs() + " ms";
            }
            if (started && i.status().isFinal()) {
                throw new IllegalStateException("the migration ended (" + i.status() + ") before dirty sync count "
                        + wanted);
            }
            TimeUnit.MICROSECONDS.sleep(POLL_MICROS);
        }
        throw new IllegalStateException("dirty sync count " + wanted + " not reached within " + seconds + " s");
    }

    @Descriptor("wait until the outgoing migration of NAME has ended (after migrate -d), at most SECONDS;"
            + " prints its final status")
    public String end_wait(@Descriptor("the VM") String name, @Descriptor("seconds to wait at most") String seconds)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(seconds));
        while (System.nanoTime() < deadline) {
            MigrationInfo i = migrations.info(name);
            if (i.status().isFinal()) {
                return "migration " + i.status() + " after " + i.totalTimeMs() + " ms";
            }
            TimeUnit.MILLISECONDS.sleep(5);
        }
        throw new IllegalStateException("the migration of " + name + " did not end within " + seconds + " s");
    }

    @Descriptor("the guest's progress per second, all vCPUs together, counted over MS milliseconds")
    public String progress_rate(@Descriptor("the VM") String name, @Descriptor("milliseconds") String ms)
            throws InterruptedException {
        Vm vm = vm(name);
        long t0 = System.nanoTime();
        long p0 = progress(vm);
        TimeUnit.MILLISECONDS.sleep(Long.parseLong(ms));
        long p1 = progress(vm);
        long t1 = System.nanoTime();
        return rate("progress", p1 - p0, t1 - t0, vm);
    }

    @Descriptor("watch NAME's migration until it ends: the last auto-converge throttle while active, and the guest's"
            + " progress over its postcopy-active phase; returns at once, migration_wait prints what it saw")
    public String migration_watch(@Descriptor("the VM") String name) {
        Watch old = watch;
        if (old != null) {
            old.thread.interrupt(); // left over from a run that failed before its migration_wait
        }
        Watch w = new Watch(name, vm(name));
        watch = w;
        w.thread.start();
        return "watching " + name;
    }

    @Descriptor("wait for the watch started by migration_watch to see the migration end; prints what it saw")
    public String migration_wait(@Descriptor("seconds to wait at most") String seconds) throws InterruptedException {
        Watch w = watch;
        if (w == null) {
            throw new IllegalStateException("no watch: migration_watch first");
        }
        try {
            return w.result.get(Math.round(Double.parseDouble(seconds) * 1000), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the migration did not end within " + seconds + " s");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } finally {
            w.thread.interrupt();
            watch = null;
        }
    }

    private Vm vm(String name) {
        return vms.get(name).orElseThrow(() -> new IllegalArgumentException("no VM named " + name));
    }

    private static long progress(Vm vm) {
        return vm.cpus().stream().mapToLong(VcpuInfo::progress).sum();
    }

    private static String rate(String what, long progress, long nanos, Vm vm) {
        String unit = vm.cpus().isEmpty() ? "" : " " + vm.cpus().getFirst().progressUnit();
        return String.format(Locale.ROOT, "%s: %d%s in %.1f ms = %.0f per second", what, progress, unit, nanos / 1e6,
                progress * 1e9 / nanos);
    }

    /**
     * One watch, from the first look that finds the migration under way to the first that finds it
     * over: the throttle of the last look that found it active (the end of a migration sets it back
     * to 0), and the postcopy phase from the first look that finds it in postcopy to the first that
     * finds it out.
     */
    private final class Watch {
        final String name;
        final Vm vm;
        final CompletableFuture<String> result = new CompletableFuture<>();
        final Thread thread;

        Watch(String name, Vm vm) {
            this.name = name;
            this.vm = vm;
            this.thread = Thread.ofPlatform().name("bench-migration-watch").daemon().unstarted(this::run);
        }

        void run() {
            try {
                boolean started = false;
                int throttle = 0;
                long t0 = 0;
                long p0 = 0;
                String postcopy = "postcopy-active: none";
                while (true) {
                    MigrationInfo i = migrations.info(name);
                    MigrationStatus s = i.status();
                    boolean inPostcopy = s == MigrationStatus.POSTCOPY_ACTIVE || s == MigrationStatus.POSTCOPY_PAUSED
                            || s == MigrationStatus.POSTCOPY_RECOVER;
                    if (s == MigrationStatus.ACTIVE) {
                        throttle = i.throttlePercent();
                    }
                    if (t0 == 0 && inPostcopy) {
                        p0 = progress(vm);
                        t0 = System.nanoTime();
                    } else if (t0 > 0 && !inPostcopy) {
                        postcopy = rate("postcopy-active", progress(vm) - p0, System.nanoTime() - t0, vm);
                        t0 = -1; // seen whole
                    }
                    if (started && s.isFinal()) {
                        result.complete(String.format(Locale.ROOT, "migration %s; final throttle %d %%; %s", s,
                                throttle, postcopy));
                        return;
                    }
                    started |= !s.isFinal();
                    TimeUnit.MICROSECONDS.sleep(POLL_MICROS);
                }
            } catch (InterruptedException e) {
                result.completeExceptionally(new IllegalStateException("the watch was stopped"));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }
    }
}
