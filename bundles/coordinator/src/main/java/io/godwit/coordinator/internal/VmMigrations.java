package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.transport.Transport;

/** One VM's settings and its current (or last) migration, outgoing or incoming. */
final class VmMigrations {

    final MigrationSettings settings;
    int incomingAttempts;
    private OutgoingMigration outgoing;
    private IncomingMigration incoming;
    /** The transport service the current migration uses. */
    private Transport transport;
    private String scheme;

    VmMigrations(java.util.function.Supplier<MigrationDefaults> defaults) {
        this.settings = new MigrationSettings(defaults);
    }

    synchronized void requireIdle(String vm) {
        MigrationStatus s = status();
        if (!s.isFinal()) {
            throw new IllegalStateException("VM '" + vm + "' has a migration in progress (" + s + ")");
        }
    }

    private MigrationStatus status() {
        if (outgoing != null) {
            return outgoing.status();
        }
        return incoming != null ? incoming.status() : MigrationStatus.NONE;
    }

    synchronized void start(String scheme, Transport transport, OutgoingMigration out) {
        this.scheme = scheme;
        this.transport = transport;
        this.outgoing = out;
        this.incoming = null;
        settings.pin(out::status);
        out.start();
    }

    synchronized void start(String scheme, Transport transport, IncomingMigration in) {
        this.scheme = scheme;
        this.transport = transport;
        this.incoming = in;
        this.outgoing = null;
        settings.pin(in::status);
        in.start();
    }

    synchronized OutgoingMigration outgoing() {
        return outgoing;
    }

    synchronized IncomingMigration incoming() {
        return incoming;
    }

    synchronized void cancelAll() {
        if (outgoing != null) {
            outgoing.cancel();
        }
        if (incoming != null && !incoming.status().isFinal()) {
            incoming.cancel();
        }
    }

    /**
     * The VM is being destroyed: its migration, outgoing or incoming, ends, and this returns once its
     * thread has (false if it did not within about {@code millis} twice over).
     */
    boolean endWithVm(long millis) throws InterruptedException {
        OutgoingMigration out;
        IncomingMigration in;
        synchronized (this) {
            out = outgoing;
            in = incoming;
        }
        // Not under this object's lock: the migration's own thread may need it to end.
        return (out == null || out.endWithVm(millis)) && (in == null || in.endWithVm(millis));
    }

    /** The transport bundle of a running migration went away: it fails, the source runs on. */
    synchronized void transportGone(Transport gone) {
        if (gone == transport && !status().isFinal()) {
            if (outgoing != null) {
                outgoing.abort("the '" + scheme + "' transport was removed");
            }
            if (incoming != null) {
                incoming.cancel();
            }
        }
    }

    /** The TLS session of the current or last migration, or null. */
    synchronized String tls() {
        if (outgoing != null) {
            return outgoing.stats.tls;
        }
        return incoming != null ? incoming.stats.tls : null;
    }

    /** The outgoing migration's passes and switchover; a destination has none. */
    synchronized io.godwit.api.migration.MigrationHistory history() {
        return outgoing != null ? outgoing.stats.history() : io.godwit.api.migration.MigrationHistory.NONE;
    }

    synchronized MigrationInfo info() {
        if (outgoing != null) {
            return outgoing.stats.snapshot();
        }
        return incoming != null ? incoming.stats.snapshot() : MigrationInfo.none();
    }
}
