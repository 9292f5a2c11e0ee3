package io.godwit.coordinator.internal;

import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationListener;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.migration.MigrationTextParameter;
import io.godwit.api.migration.TransportInfo;
import io.godwit.api.tls.TlsService;
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
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
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
@Component(service = MigrationService.class, configurationPid = MigrationDefaults.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
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
    /** Destinations waiting for the hello that gives their VM its shape, by VM name; guarded by this. */
    /** Changed under the coordinator's lock; read without it, so a query never waits for a migrate. */
    private final Map<String, ShapelessIncoming> shapeless = new java.util.concurrent.ConcurrentHashMap<>();
    /** The host's defaults ({@code etc/io.godwit.migration.cfg}); each migration pins them as it starts. */
    private volatile MigrationDefaults defaults = MigrationDefaults.BUILT_IN;

    /** Without a configuration (no ConfigAdmin, or no such file): the built-in defaults. */
    public Coordinator(VmManager vms) {
        this(vms, Map.of());
    }
    private final ChannelSecurity security = new ChannelSecurity();

    public Coordinator(VmManager vms, Map<String, Object> config) {
        this.vms = vms;
        configure(config);
        vms.addListener(onDestroy);
    }

    /** Loads the migration path's classes in the background ({@link Warmup}); null in unit tests. */
    private Thread warmup;

    @Activate
    public Coordinator(@Reference VmManager vms, Map<String, Object> config, org.osgi.framework.BundleContext context) {
        this(vms, config);
        warmup = Warmup.start(context.getBundle());
    }

    /**
     * The configuration changed (the file was edited, added or deleted): the next migration of every
     * VM takes the new defaults; a running one keeps those it started with. As a modified method,
     * not a reactivation, which would end every migration under way.
     */
    @Modified
    public void configure(Map<String, Object> config) {
        List<String> problems = new java.util.ArrayList<>();
        MigrationDefaults d = MigrationDefaults.from(config, problems);
        problems.forEach(p -> LOG.warn("{}: {}", MigrationDefaults.PID, p));
        if (!d.equals(defaults)) {
            LOG.info("migration defaults{}: {}", config.containsKey("felix.fileinstall.filename")
                    ? " from " + config.get("felix.fileinstall.filename") : "",
                    d.changes().isEmpty() ? "built-in" : String.join(", ", d.changes()));
        }
        defaults = d;
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

    /** The tls bundle's objects, for migrations with tls-creds; a migration without TLS never needs it. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void setTls(TlsService tls) {
        security.bind(tls);
    }

    public void unsetTls(TlsService tls) {
        security.unbind(tls);
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
        if (warmup != null) {
            warmup.interrupt();
        }
        vms.removeListener(onDestroy);
        all().forEach(VmMigrations::cancelAll);
        List<ShapelessIncoming> waiting;
        synchronized (this) {
            waiting = List.copyOf(shapeless.values());
            shapeless.clear();
        }
        for (ShapelessIncoming s : waiting) {
            try {
                s.cancel();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
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
            return perVm.computeIfAbsent(vm(name), v -> new VmMigrations(() -> defaults));
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
        java.util.Set<io.godwit.api.transport.TransportCapability> offered = t.capabilities(uri.address());
        boolean withoutReturnPath = withoutReturnPath(m.settings, offered);
        TransportCheck.check(uriText, c -> (c != MigrationCapability.RETURN_PATH || !withoutReturnPath)
                && m.settings.capability(c), offered);
        MappedRam.checkCapabilities(m.settings);
        Postcopy.checkCapabilities(m.settings);
        MultifdSend.checkCapabilities(m.settings);
        ChannelSecurity.Wrap secure = security.outgoing(m.settings, uri);
        OutgoingMigration out = new OutgoingMigration(vm, t, uri.address(), m.settings, this, saveCosts);
        out.oneWayStream = !offered.contains(io.godwit.api.transport.TransportCapability.BIDIRECTIONAL)
                && !m.settings.capability(MigrationCapability.MAPPED_RAM);
        out.secure = secure;
        out.withoutReturnPath = withoutReturnPath;
        m.start(uri.scheme(), t, out);
    }

    /**
     * A file (seekable, one-way) can never answer: return-path, on by default, goes off for it by
     * itself, as QEMU's is off for file:. Not when the user chose it (the transport check then says
     * why it cannot be), nor with postcopy, which needs it (refused the same way).
     */
    private static boolean withoutReturnPath(MigrationSettings settings,
            java.util.Set<io.godwit.api.transport.TransportCapability> offered) {
        return offered.contains(io.godwit.api.transport.TransportCapability.SEEKABLE)
                && !offered.contains(io.godwit.api.transport.TransportCapability.BIDIRECTIONAL)
                && !settings.isSet(MigrationCapability.RETURN_PATH)
                && !settings.capability(MigrationCapability.POSTCOPY_RAM);
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
        ChannelSecurity.Wrap secure = security.incoming(m.settings);
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
        IncomingMigration in = new IncomingMigration(vm, listener, fresh, m.settings, this);
        in.secure = secure;
        m.start(uri.scheme(), t, in);
    }

    @Override
    public synchronized void incomingFromStream(io.godwit.api.vm.VmSpec local, Map<String, String> deviceMap,
            String uriText) {
        String name = local.name();
        if (vms.get(name).isPresent()) {
            throw new IllegalArgumentException("a VM named '" + name + "' already exists");
        }
        ShapelessIncoming earlier = shapeless.get(name);
        if (earlier != null && !earlier.status().isFinal()) {
            throw new IllegalArgumentException("'" + name + "' already waits for an incoming migration on "
                    + earlier.info().listenUri());
        }
        Uri uri = Uri.parse(uriText);
        Transport t = transport(uri);
        if (local.memPath() == null && t.capabilities().contains(io.godwit.api.transport.TransportCapability.REMOTE_MEMORY_WRITE)) {
            throw new IllegalArgumentException("transport '" + uri.scheme() + "' writes into the destination's"
                    + " registered RAM, which must be a shared file: give --mem-path FILE (for example /dev/shm/"
                    + name + ".ram)");
        }
        IncomingListener listener;
        try {
            listener = t.listenIncoming(uri.address());
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + uriText + ": " + e.getMessage(), e);
        }
        ShapelessIncoming s = new ShapelessIncoming(local, deviceMap, uri.scheme(), t, listener, vms, this::madeFromHello);
        shapeless.put(name, s);
        s.start();
    }

    /**
     * The VM was made from the hello: its incoming migration starts on the channel, read again from
     * its start. Under the coordinator's lock, as {@link #incoming}: a transport removed meanwhile
     * fails it as any other.
     */
    private synchronized void madeFromHello(Vm vm, IncomingListener channel, ShapelessIncoming from) {
        if (shapeless.get(vm.name()) != from) {
            throw new MigrationFailure("cancelled");
        }
        if (!transports.active().containsValue(from.transport)) {
            throw new MigrationFailure("the '" + from.scheme + "' transport was removed");
        }
        shapeless.remove(vm.name());
        VmMigrations m = of(vm.name());
        m.incomingAttempts++;
        m.start(from.scheme, from.transport, new IncomingMigration(vm, channel, false, m.settings, this));
    }

    /**
     * The destination waiting for (or checking) its hello under {@code name}; once it ended, only while
     * no VM has the name (a failed one says why until the name is used again).
     */
    /**
     * The VM's shapeless incoming migration, if it still stands for the VM. Not under the coordinator's
     * lock: {@link #info} is what management tools poll, and {@link #migrate} holds that lock while it
     * checks the transport and sets the migration up.
     */
    private ShapelessIncoming shapeless(String name) {
        ShapelessIncoming s = shapeless.get(name);
        return s != null && (!s.status().isFinal() || vms.get(name).isEmpty()) ? s : null;
    }

    @Override
    public void cancel(String name) {
        ShapelessIncoming waiting = shapeless(name);
        if (waiting != null) {
            synchronized (this) {
                shapeless.remove(name, waiting);
            }
            try {
                waiting.cancel();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
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
            in.secure = security.incoming(of(name).settings);
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
        out.secure = security.outgoing(of(name).settings, uri);
        out.resumePostcopy(transport(uri), uri.address());
    }

    @Override
    public synchronized void pausePostcopy(String name) {
        vm(name);
        VmMigrations m = of(name);
        OutgoingMigration out = m.outgoing();
        IncomingMigration in = m.incoming();
        if (out != null && Postcopy.alive(out.status())) {
            out.pausePostcopy();
        } else if (in != null && Postcopy.alive(in.status())) {
            in.pausePostcopy();
        } else {
            // QEMU's wording (migration.c, qmp_migrate_pause)
            throw new IllegalStateException("migrate-pause is currently only supported during postcopy-active or"
                    + " postcopy-recover state (VM '" + name + "' is " + m.info().status() + ")");
        }
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
    public void setParameter(String name, MigrationTextParameter parameter, String value) {
        vm(name);
        VmMigrations m = of(name);
        m.requireIdle(name);
        m.settings.setText(parameter, value);
    }

    @Override
    public String parameter(String name, MigrationTextParameter parameter) {
        vm(name);
        return of(name).settings.text(parameter);
    }

    @Override
    public String tls(String name) {
        vm(name);
        return of(name).tls();
    }

    @Override
    public MigrationInfo info(String name) {
        ShapelessIncoming waiting = shapeless(name);
        if (waiting != null) {
            return waiting.info();
        }
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
