package io.godwit.api.qmp;

import java.io.IOException;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The QMP servers of this host's VMs, as QEMU has one per process ({@code -qmp unix:PATH,server}).
 * Implemented by the qmp bundle; the shell's {@code vm_create --qmp} and {@code qmp_add} call it.
 * Thread safe. A VM's servers close when the VM is destroyed.
 */
@ProviderType
public interface QmpServers {

    /**
     * Starts a QMP server for {@code vm} on {@code address}: {@code unix:PATH} (an owner-only socket)
     * or {@code tcp:HOST:PORT} (port 0 picks a free one). Returns once it listens.
     *
     * @return the address it listens on, with a port 0 resolved
     * @throws IllegalArgumentException for an unknown VM or an address that does not parse
     * @throws IOException when the address cannot be bound (the message says why, in one line)
     */
    String add(String vm, String address) throws IOException;

    /** The addresses {@code vm}'s QMP servers listen on, in the order they were added; empty when none. */
    List<String> addresses(String vm);
}
