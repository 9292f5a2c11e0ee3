package io.godwit.shell.internal;

import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.MigrationStatus;
import java.io.PrintStream;
import java.util.function.BooleanSupplier;

/**
 * Waits for a VM's migration to end, polling {@link MigrationService#info} and showing progress:
 * on a terminal one line redrawn with {@code '\r'} every {@link #PERIOD_MS}; otherwise one plain
 * line per pass (and every 10 s of a long pass) and per change of state, so a log reads well.
 *
 * <p>An interrupt (Ctrl-C in the console) or an output that fails (the monitor client went away)
 * cancels the migration, as Ctrl-C does in {@code virsh migrate}: a migration started without
 * {@code -d} belongs to its command.
 */
final class MigrationWatch {

    /** Sleeps between polls; tests replace it. */
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    static final long PERIOD_MS = 200;
    /** Plain output repeats the pass line during a long pass every 50 polls (10 s), so a log shows progress. */
    static final int PLAIN_EVERY_POLLS = 50;

    private final MigrationService migration;
    private final String vm;
    private final Tty tty;
    private final Sleeper sleeper;
    private final BooleanSupplier serviceGone;

    private String drawn = "";
    private long pass;
    private int quietPolls;
    private MigrationStatus status;

    /**
     * @param serviceGone true once the migration service went away (the command's component was
     *     deactivated): waiting any longer would poll a dead service
     */
    MigrationWatch(MigrationService migration, String vm, Tty tty, Sleeper sleeper, BooleanSupplier serviceGone) {
        this.migration = migration;
        this.vm = vm;
        this.tty = tty;
        this.sleeper = sleeper;
        this.serviceGone = serviceGone;
    }

    /**
     * Shows progress until the migration's status is final.
     *
     * @return the final snapshot (completed, failed or cancelled)
     * @throws IllegalStateException when the migration service goes away, or after an interrupt
     *     or a lost output, unless the cancel ended the migration at once
     */
    MigrationInfo await() {
        MigrationInfo info = migration.info(vm);
        while (!info.status().isFinal()) {
            show(info);
            if (tty.out().checkError()) {
                return cancelled("the output is gone");
            }
            try {
                sleeper.sleep(PERIOD_MS);
            } catch (InterruptedException e) {
                return cancelled("interrupted");
            }
            if (serviceGone.getAsBoolean()) {
                endLine();
                throw new IllegalStateException("the migration service stopped while VM " + vm + " was migrating");
            }
            info = migration.info(vm);
        }
        show(info);
        endLine();
        return info;
    }

    private void show(MigrationInfo info) {
        PrintStream out = tty.out();
        if (tty.terminal()) {
            String line = MigrationReport.progressLine(info, vm, tty.width());
            // Spaces wipe what is left of a longer previous line.
            out.print("\r" + line + " ".repeat(Math.max(0, drawn.length() - line.length())));
            drawn = line;
        } else {
            showPlain(out, info);
        }
        status = info.status();
        out.flush();
    }

    /** A line per change of state (but setup, active and the end) and per pass, or 10 s of one. */
    private void showPlain(PrintStream out, MigrationInfo info) {
        MigrationStatus s = info.status();
        String note = MigrationReport.stateNote(s, vm);
        if (s != status && note != null && !s.isFinal()) {
            out.println("status: " + note);
        }
        long p = info.ram().dirtySyncCount();
        quietPolls++;
        if (s == MigrationStatus.ACTIVE && (p != pass || quietPolls >= PLAIN_EVERY_POLLS)) {
            out.println(MigrationReport.passLine(info));
            quietPolls = 0;
        }
        pass = p;
    }

    /** Ends the redrawn line, so what follows starts on a line of its own. */
    private void endLine() {
        if (!drawn.isEmpty()) {
            tty.out().println();
            tty.out().flush();
            drawn = "";
        }
    }

    /**
     * Cancels after an interrupt or a lost output, without waiting: Gogo's console stops waiting
     * for a command at Ctrl-C (it cancels the job's future), so anything printed later would land
     * after the next prompt.
     */
    private MigrationInfo cancelled(String why) {
        endLine();
        tty.out().println(why + ": cancelling the migration of VM " + vm);
        tty.out().flush();
        try {
            migration.cancel(vm);
        } catch (RuntimeException e) {
            throw new IllegalStateException(why + ", and the migration of VM " + vm + " could not be cancelled ("
                    + e.getMessage() + "): see info migrate " + vm);
        }
        MigrationInfo info = migration.info(vm);
        if (!info.status().isFinal()) {
            throw new IllegalStateException(why + ": cancelling the migration of VM " + vm + ", now "
                    + info.status() + "; info migrate " + vm + " shows how it ends");
        }
        return info;
    }
}
