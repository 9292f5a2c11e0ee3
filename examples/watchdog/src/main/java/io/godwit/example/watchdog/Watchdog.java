package io.godwit.example.watchdog;

import io.godwit.api.cpu.OracleVerdict;
import io.godwit.api.device.Device;
import io.godwit.api.device.DeviceContext;
import io.godwit.api.state.StateFormatException;
import io.godwit.api.state.StateInput;
import io.godwit.api.state.StateOutput;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A watchdog (in the spirit of QEMU's i6300esb): the guest's driver pets it on every run; if no pet
 * comes for {@code timeout-ms} while the VM runs, it fires. Its timer is device state: paused with
 * the VM and migrated with the time left, so a migration whose downtime is shorter than the timeout
 * never fires it. State version 1; the optional subsection {@code fired} appears only after a firing.
 *
 * <p>The timer thread is {@code watchdog-<vm>-<id>}; lifecycle calls hold this object's monitor.
 */
final class Watchdog implements Device {

    private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);

    private final DeviceContext ctx;
    private final long timeoutNanos;
    private final boolean guestPets;
    private AutoCloseable driverHandle;
    private Thread timer;
    private volatile boolean running;
    private volatile long deadline;
    private volatile long pets;
    private volatile long fired;
    private long leftNanos;

    Watchdog(DeviceContext ctx, long timeoutMs, boolean guestPets) {
        this.ctx = ctx;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        this.guestPets = guestPets;
        this.leftNanos = timeoutNanos;
    }

    /** The guest's pet (a port write, a VM exit): restarts the countdown. Called on vCPU 0. */
    void pet() {
        pets++;
        deadline = System.nanoTime() + timeoutNanos;
    }

    long pets() {
        return pets;
    }

    long fired() {
        return fired;
    }

    @Override
    public void realize() {
        if (guestPets) {
            driverHandle = ctx.attachGuestDriver(memory -> pet());
        }
    }

    @Override
    public synchronized void reset() {
        leftNanos = timeoutNanos;
    }

    @Override
    public synchronized void resume() {
        if (running) {
            return;
        }
        deadline = System.nanoTime() + leftNanos;
        running = true;
        timer = Thread.ofPlatform().daemon().name("watchdog-" + ctx.vmName() + "-" + ctx.id()).start(this::count);
    }

    @Override
    public synchronized void pause() {
        if (!running) {
            return;
        }
        running = false;
        timer.interrupt();
        try {
            timer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        leftNanos = Math.max(0, deadline - System.nanoTime());
    }

    private void count() {
        while (running) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fired++;
                LOG.warn("{}: watchdog {} fired: no pet for {} ms", ctx.vmName(), ctx.id(),
                        TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
                deadline = System.nanoTime() + timeoutNanos;
                continue;
            }
            try {
                TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public synchronized void unrealize() {
        pause();
        if (driverHandle != null) {
            try {
                driverHandle.close();
            } catch (Exception e) {
                LOG.debug("closing the driver", e);
            }
        }
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public synchronized void saveState(StateOutput out) {
        out.writeLong(TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
        out.writeLong(leftNanos);
        out.writeLong(pets);
        if (fired > 0) {
            out.subsection("fired", s -> s.writeLong(fired));
        }
    }

    @Override
    public synchronized void loadState(StateInput in, int version) {
        long timeoutMs = in.readLong();
        long left = in.readLong();
        long p = in.readLong();
        long f = in.subsection("fired").map(StateInput::readLong).orElse(0L);
        if (timeoutMs != TimeUnit.NANOSECONDS.toMillis(timeoutNanos)) {
            throw new StateFormatException("timeout " + timeoutMs + " ms, this watchdog's is "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
        }
        if (left < 0 || left > timeoutNanos || p < 0 || f < 0) {
            throw new StateFormatException("timer state out of range");
        }
        leftNanos = left;
        pets = p;
        fired = f;
    }

    @Override
    public String describe() {
        return String.format("timeout %d ms, %d pets, fired %d times, %s", TimeUnit.NANOSECONDS.toMillis(timeoutNanos),
                pets, fired, running ? "counting" : "stopped");
    }

    @Override
    public Optional<OracleVerdict> check() {
        long f = fired;
        return Optional.of(new OracleVerdict(0, f == 0 ? 0 : 1,
                f == 0 ? List.of() : List.of("the watchdog fired " + f + " times"),
                pets + " pets, fired " + f + " times"));
    }
}
