package io.godwit.shell.internal;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.Optional;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * Who may use the monitor, a full shell ({@code migrate x exec:...} runs {@code sh}): the host's own
 * user, by the credentials the kernel recorded when the client connected (SO_PEERCRED), and root.
 * The socket file is owner-only already; this check holds even where an operator opened its mode or
 * its folder. Root is let in because it can read the host's memory and files anyway: refusing it
 * would protect nothing and only stop an administrator. Called on the {@code monitor-accept} thread.
 */
final class MonitorPeers {

    private final UserPrincipal host;
    private final UserPrincipal root;

    /**
     * @param host the host's user
     * @param root root, or null to let in the host's user alone
     */
    MonitorPeers(UserPrincipal host, UserPrincipal root) {
        this.host = host;
        this.root = root;
    }

    /** The user this process runs as (the owner of /proc/self, its effective uid) and root. */
    static MonitorPeers ofThisProcess() throws IOException {
        UserPrincipal root;
        try {
            root = FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName("root");
        } catch (IOException noRoot) {
            root = null;
        }
        return new MonitorPeers(Files.getOwner(Path.of("/proc/self")), root);
    }

    /** Empty when the client on {@code channel} may give commands, else one line that says why not. */
    Optional<String> refusal(SocketChannel channel) {
        UserPrincipal user;
        try {
            UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            user = peer.user();
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.of("cannot tell which user connected (" + e.getMessage() + "), so this monitor refuses");
        }
        if (user.equals(host) || user.equals(root)) {
            return Optional.empty();
        }
        boolean alsoRoot = root != null && !root.equals(host);
        return Optional.of("this monitor takes commands from its host's user " + host.getName()
                + (alsoRoot ? " and root" : "") + " only, not from " + user.getName());
    }
}
