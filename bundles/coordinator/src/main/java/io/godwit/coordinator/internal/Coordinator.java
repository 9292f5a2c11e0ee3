package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationListener;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.migration.TransportInfo;
import io.godwit.api.transport.IncomingListener;
import io.godwit.api.transport.Transport;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmListener;
import io.godwit.api.vm.VmManager;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The migration coordinator: the one implementation of {@link MigrationService}. Transports and
 * migration listeners are whiteboard services tracked here; a transport that goes away fails the
 * migrations that use it, with their source VMs running on.
 */
@Component(service = MigrationService.class)
public class Coordinator implements MigrationService, Events {

    private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);
    /** How long a destroy waits for its VM's migration to end, twice over (see {@link VmMigrations#endWithVm}). */
    private static final long END_WITH_VM_MILLIS = 5_000;

    private final VmManager vms;
    private final TransportRegistry transports = new TransportRegistry();
    /** What device saves took in stop-and-copies on this host, for the next downtime estimates. */
    private final SaveCosts saveCosts = new SaveCosts();
    private final List<MigrationListener> listeners = new CopyOnWriteArrayList<>();
    /**
     * Per VM object, not per name: a VM destroyed and created again under the same name starts with
     * default capabilities. An entry is dropped when its VM is destroyed ({@link #vmDestroying}); its
     * values reference the VM, so a weak map would never drop one.
     */
    private final Map<Vm, VmMigrations> perVm = java.util.Collections.synchronizedMap(new java.util.HashMap<>());
    private final VmListener onDestroy = this::vmDestroying;

    @Activate
    public Coordinator(@Reference VmManager vms) {
        this.vms = vms;
        vms.addListener(onDestroy);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void addTransport(Transport t, Map<String, Object> props) {
        if (props.get(Transport.SCHEME) instanceof String scheme) {
            transports.add(scheme, t, props);
        }
    }

    /**
     * Fails the migrations that use {@code t} (not those on another service of the same scheme). Under the
     * coordinator's lock, as {@link #migrate} and {@link #incoming} are: a migration either started before
     * (and is failed here) or looks its transport up after (and gets the next one, or none).
     */
    public synchronized void removeTransport(Transport t, Map<String, Object> props) {
        if (props.get(Transport.SCHEME) instanceof String scheme && transports.remove(scheme, t)) {
            all().forEach(m -> m.transportGone(t));
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void addListener(MigrationListener l) {
        listeners.add(l);
    }

    public void removeListener(MigrationListener l) {
        listeners.remove(l);
    }

    @Deactivate
    public void deactivate() {
        vms.removeListener(onDestroy);
        all().forEach(VmMigrations::cancelAll);
    }

    /**
     * A VM is being destroyed (it has left the registry): its entry goes, and its migration ends before
     * its RAM is freed, as QEMU ends a migration before it frees the VM. Under the coordinator's lock, as
     * {@link #migrate} and {@link #incoming} are: a migration either started before (and ends here) or
     * looks the VM up after (and finds none). The wait is outside the lock.
     */
    private void vmDestroying(Vm vm) throws InterruptedException {
        VmMigrations m;
        synchronized (this) {
            m = perVm.remove(vm);
        }
        if (m != null && !m.endWithVm(END_WITH_VM_MILLIS)) {
            LOG.warn("{}: its migration thread did not end within {} ms of vm_destroy", vm.name(), 2 * END_WITH_VM_MILLIS);
        }
    }

    /** The schemes installed now. */
    public List<String> schemes() {
        return List.copyOf(transports.active().keySet());
    }

    @Override
    public List<TransportInfo> transports() {
        return transports.active().entrySet().stream()
                .map(e -> new TransportInfo(e.getKey(), bundleOf(e.getValue()), e.getValue().capabilities()))
                .toList();
    }

    private static String bundleOf(Transport t) {
        org.osgi.framework.Bundle b = org.osgi.framework.FrameworkUtil.getBundle(t.getClass());
        return b == null ? "-" : b.getSymbolicName() + " " + b.getVersion();
    }

    private Vm vm(String name) {
        return vms.get(name).orElseThrow(() -> new IllegalArgumentException("no VM named '" + name + "'"));
    }

    /**
     * The VM's entry. The VM is looked up under the map's lock: a destroy takes the VM out of the
     * registry before it drops the entry under that lock, so no entry is made for a VM already gone.
     */
    private VmMigrations of(String name) {
        synchronized (perVm) {
            return perVm.computeIfAbsent(vm(name), v -> new VmMigrations());
        }
    }

    private List<VmMigrations> all() {
        synchronized (perVm) {
            return List.copyOf(perVm.values());
        }
    }

    private Transport transport(Uri uri) {
        Transport t = transports.get(uri.scheme());
        if (t == null) {
            throw new IllegalArgumentException("unknown transport '" + uri.scheme() + "' (installed: "
                    + String.join(", ", schemes()) + ")");
        }
        return t;
    }

    @Override
    public synchronized void migrate(String name, String uriText) {
        Vm vm = vm(name);
        VmMigrations m = of(name);
        m.requireIdle(name);
        RunState state = vm.state();
        if (state == RunState.INMIGRATE || state == RunState.FINISH_MIGRATE) {
            throw new IllegalStateException("VM '" + name + "' is " + state + ": it cannot be migrated");
        }
        Uri uri = Uri.parse(uriText);
        Transport t = transport(uri);
        TransportCheck.check(uriText, m.settings::capability, t.capabilities(uri.address()));
        Postcopy.checkCapabilities(m.settings);
        OutgoingMigration out = new OutgoingMigration(vm, t, uri.address(), m.settings, this, saveCosts);
        m.start(uri.scheme(), t, out);
    }

    @Override
    public synchronized void incoming(String name, String uriText) {
        Vm vm = vm(name);
        VmMigrations m = of(name);
        m.requireIdle(name);
        if (vm.state() != RunState.INMIGRATE) {
            throw new IllegalStateException("VM '" + name + "' is not waiting for an incoming migration "
                    + "(create it with --incoming defer)");
        }
        Uri uri = Uri.parse(uriText);
        Transport t = transport(uri);
        RemoteRam.checkRegistrable(vm, uri.scheme(), t);
        IncomingListener listener;
        try {
            listener = t.listenIncoming(uri.address());
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + uriText + ": " + e.getMessage(), e);
        }
        // Fresh: anonymous RAM that nobody wrote (no earlier attempt, no program image or device
        // ring written at creation), so a zero page that did not arrive is already zero.
        boolean fresh = m.incomingAttempts == 0 && !vm.memory().vmmWritten()
                && vm.memory().blocks().stream().allMatch(b -> b.backingFile().isEmpty());
        m.incomingAttempts++;
        m.start(uri.scheme(), t, new IncomingMigration(vm, listener, fresh, m.settings, this));
    }

    @Override
    public void cancel(String name) {
        vm(name);
        of(name).cancelAll();
    }

    @Override
    public void startPostcopy(String name) {
        vm(name);
        VmMigrations m = of(name);
        OutgoingMigration out = m.outgoing();
        if (!m.settings.capability(MigrationCapability.POSTCOPY_RAM)) {
            throw new IllegalStateException("postcopy-ram is not on for VM '" + name
                    + "' (migrate_set_capability " + name + " postcopy-ram on, before migrate)");
        }
        if (out == null || out.status().isFinal()) {
            throw new IllegalStateException("VM '" + name + "' has no outgoing migration to switch to postcopy");
        }
        out.startPostcopy();
    }

    @Override
    public synchronized void recoverPostcopy(String name, String uriText) {
        vm(name);
        IncomingMigration in = of(name).incoming();
        if (in == null || in.status() != MigrationStatus.POSTCOPY_PAUSED) {
            throw new IllegalStateException("VM '" + name + "' has no incoming postcopy in postcopy-paused"
                    + (in != null ? " (it is " + in.status() + ")" : ""));
        }
        Uri uri = Uri.parse(uriText);
        IncomingListener listener;
        try {
            listener = transport(uri).listenIncoming(uri.address());
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + uriText + ": " + e.getMessage(), e);
        }
        try {
            in.recover(listener);
        } catch (RuntimeException e) {
            try {
                listener.close();
            } catch (IOException ignored) {
                // it listened for nothing
            }
            throw e;
        }
    }

    @Override
    public synchronized void resumePostcopy(String name, String uriText) {
        vm(name);
        OutgoingMigration out = of(name).outgoing();
        if (out == null || out.status() != MigrationStatus.POSTCOPY_PAUSED) {
            throw new IllegalStateException("VM '" + name + "' has no outgoing postcopy in postcopy-paused"
                    + (out != null ? " (it is " + out.status() + ")" : ""));
        }
        Uri uri = Uri.parse(uriText);
        out.resumePostcopy(transport(uri), uri.address());
    }

    @Override
    public void continueMigration(String name) {
        vm(name);
        OutgoingMigration out = of(name).outgoing();
        if (out == null || out.status() != MigrationStatus.PRE_SWITCHOVER) {
            throw new IllegalStateException("the migration of VM '" + name + "' is not in pre-switchover");
        }
        out.continueSignal.countDown();
    }

    @Override
    public void setCapability(String name, MigrationCapability capability, boolean on) {
        vm(name);
        VmMigrations m = of(name);
        m.requireIdle(name);
        m.settings.setCapability(capability, on);
    }

    @Override
    public boolean capability(String name, MigrationCapability capability) {
        vm(name);
        return of(name).settings.capability(capability);
    }

    @Override
    public void setParameter(String name, MigrationParameter parameter, long value) {
        vm(name);
        of(name).settings.setParameter(parameter, value);
    }

    @Override
    public long parameter(String name, MigrationParameter parameter) {
        vm(name);
        return of(name).settings.parameter(parameter);
    }

    @Override
    public MigrationInfo info(String name) {
        vm(name);
        return of(name).info();
    }

    @Override
    public io.godwit.api.migration.MigrationHistory history(String name) {
        vm(name);
        return of(name).history();
    }

    private boolean events(String vm) {
        return vms.get(vm).map(v -> of(v.name()).settings.capability(MigrationCapability.EVENTS)).orElse(false);
    }

    @Override
    public void status(String vm, MigrationStatus status) {
        if (events(vm)) {
            long now = System.currentTimeMillis();
            listeners.forEach(l -> l.statusChanged(vm, status, now));
        }
    }

    @Override
    public void stalled(String vm, String why) {
        if (events(vm)) {
            long now = System.currentTimeMillis();
            listeners.forEach(l -> l.stalled(vm, why, now));
        }
    }

    @Override
    public void pass(String vm, long pass) {
        if (events(vm)) {
            long now = System.currentTimeMillis();
            listeners.forEach(l -> l.passStarted(vm, pass, now));
        }
    }
}
