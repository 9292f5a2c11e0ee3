package io.godwit.api.vm;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Told when a VM of this host is destroyed, so that work bound to the VM (a migration waiting for its
 * source, or sending its RAM) ends with it. Registered with {@link VmManager#addListener}.
 *
 * <p>Not a whiteboard service: its main user, the migration coordinator, needs the {@link VmManager}
 * itself, and a service that the manager's activation would track while that very activation is
 * under way is a cycle that Declarative Services cannot activate.
 */
@ConsumerType
public interface VmListener {

    /**
     * {@code vm} is being destroyed. Called on the thread that called {@link VmManager#destroy}, after
     * the VM has left {@link VmManager#get} and {@link VmManager#list} (so nothing new finds it by name)
     * and before its vCPU threads stop, its devices go and its RAM is freed: end everything that uses
     * the VM, and return once it has ended. May block for that, a few seconds at most. An exception is
     * logged and does not stop the destroy.
     */
    void destroying(Vm vm) throws InterruptedException;
}
