package io.godwit.api.vm;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Told when a VM of this host is destroyed, so that work bound to the VM (a migration waiting for its
 * source, or sending its RAM) ends with it, and (since 1.3) of every run state change of every VM.
 * Registered with {@link VmManager#addListener}.
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

    /**
     * {@code vm}'s run state changed from {@code from} to {@code to} (never equal): QEMU's run state
     * notifiers, from which its STOP, RESUME and SHUTDOWN events come. Called for every transition, in
     * the order they happen, on the thread that made it: the caller of {@link Vm#stop}, {@link Vm#cont}
     * or {@link Vm#setStoppedState} (a user's command, a migration thread), or a vCPU thread when the
     * guest shut down or failed. It is called with the VM's state lock held, so that no two calls for
     * one VM overlap or come out of order: it must return at once, must not block and must not call
     * the VM's methods that change or wait for its state (hand the change to a thread of your own, a
     * queue's {@code offer}). An exception is logged and changes nothing. The default does nothing.
     */
    default void runStateChanged(Vm vm, RunState from, RunState to) {}
}
