package io.godwit.qmp.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.godwit.api.migration.MigrationListener;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.qmp.QmpServers;
import io.godwit.api.tls.TlsService;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.Vm;
import io.godwit.api.vm.VmListener;
import io.godwit.api.vm.VmManager;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The QMP servers of this host's VMs, and their events. Migration events come from the coordinator (a
 * {@link MigrationListener}, called only for VMs whose {@code events} capability is on, as QEMU gates
 * MIGRATION and MIGRATION_PASS), STOP, RESUME and SHUTDOWN from the kernel's run state changes (a
 * {@link VmListener}, told of every transition in order, under the VM's lock): both are queued, stamped
 * with their time, for the thread {@code qmp-events}, which sends them in that order. A VM's servers
 * close when the VM is destroyed, after a SHUTDOWN event.
 *
 * <p>The listener is registered by hand, not as this component's service: the coordinator binds its
 * listeners as it activates, and this component binds the coordinator as it activates; as a DS service
 * each would wait for the other (SCR: "getService() resulted in a cycle"). A plain registration is
 * there once this component is active, and the coordinator's dynamic reference picks it up then.
 */
@Component(service = QmpServers.class)
public final class QmpService implements QmpServers, MigrationListener, QmpHost {

    static final Duration DRAIN = Duration.ofSeconds(2);

    private static final Logger LOG = LoggerFactory.getLogger(QmpService.class);

    /** Only the migration commands need it: the others work while the coordinator is away. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile MigrationService migration;

    /** Only human-monitor-command needs it. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile CommandProcessor processor;

    /** Only object-add and object-del need it. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile TlsService tls;

    private final VmManager vms;
    private final QmpVersion version;
    private final ObjectMapper json = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private final Map<String, VmQmp> perVm = new ConcurrentHashMap<>();
    private final Set<String> quitting = ConcurrentHashMap.newKeySet();
    private final LinkedBlockingQueue<Runnable> events = new LinkedBlockingQueue<>();
    private final VmListener vmListener = new VmListener() {
        @Override
        public void destroying(Vm vm) {
            QmpService.this.destroying(vm);
        }

        /** Under the VM's lock: only queued (an unbounded queue's add does not block). */
        @Override
        public void runStateChanged(Vm vm, RunState from, RunState to) {
            long micros = nowMicros();
            events.add(() -> runStateEvents(vm.name(), from, to, micros));
        }
    };
    private final Thread eventThread;
    private volatile boolean running = true;
    private ServiceRegistration<MigrationListener> registration;

    /** One VM's servers. */
    private static final class VmQmp {
        final List<QmpServer> servers = new CopyOnWriteArrayList<>();
    }

    @Activate
    public QmpService(@Reference VmManager vms, BundleContext context) {
        this(vms, QmpVersion.of(context.getBundle().getVersion()));
        registration = context.registerService(MigrationListener.class, this, null);
    }

    QmpService(VmManager vms, QmpVersion version) {
        this.vms = vms;
        this.version = version;
        vms.addListener(vmListener);
        eventThread = new Thread(this::eventLoop, "qmp-events");
        eventThread.setDaemon(true);
        eventThread.start();
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        if (registration != null) {
            registration.unregister();
        }
        vms.removeListener(vmListener);
        running = false;
        eventThread.interrupt();
        eventThread.join(DRAIN.toMillis());
        perVm.values().forEach(q -> q.servers.forEach(s -> s.close(DRAIN)));
        perVm.clear();
    }

    @Override
    public synchronized String add(String vm, String address) throws IOException {
        Vm v = vms.get(vm).orElseThrow(() -> new IllegalArgumentException("no VM named '" + vm + "'"));
        QmpCommands commands = new QmpCommands(vm, this);
        QmpServer server = QmpServer.open(vm, address,
                (channel, name) -> new QmpSession(channel, commands, json, version, name));
        VmQmp q = perVm.computeIfAbsent(vm, n -> new VmQmp());
        q.servers.add(server);
        if (vms.get(vm).orElse(null) != v) { // destroyed meanwhile: nobody else will close it
            destroying(v);
        }
        return server.address();
    }

    @Override
    public List<String> addresses(String vm) {
        VmQmp q = perVm.get(vm);
        return q == null ? List.of() : q.servers.stream().map(QmpServer::address).toList();
    }

    // --- QmpHost -------------------------------------------------------------------------------------

    @Override
    public VmManager vms() {
        return vms;
    }

    @Override
    public MigrationService migration() {
        MigrationService m = migration;
        if (m == null) {
            throw QmpError.generic("the migration service is not running (is the godwit-coordinator bundle started?)");
        }
        return m;
    }

    @Override
    public TlsService tls() {
        TlsService t = tls;
        if (t == null) {
            throw QmpError.generic("the TLS service is not running (is the godwit-tls bundle started?): it keeps the"
                    + " objects tls-creds-x509, authz-simple and authz-list");
        }
        return t;
    }

    @Override
    public CommandProcessor shell() {
        CommandProcessor p = processor;
        if (p == null) {
            throw QmpError.generic("the shell is not running (is the Gogo runtime bundle started?)");
        }
        return p;
    }

    /** Waits until {@code qmp-events} sent what was queued before this call, a second at most. */
    @Override
    public void eventsSent() throws InterruptedException {
        java.util.concurrent.CountDownLatch sent = new java.util.concurrent.CountDownLatch(1);
        events.add(sent::countDown);
        sent.await(1, TimeUnit.SECONDS);
    }

    @Override
    public void quit(String vm) {
        quitting.add(vm);
        Thread t = new Thread(() -> {
            try {
                vms.destroy(vm);
            } catch (IllegalArgumentException gone) {
                quitting.remove(vm); // destroyed by someone else meanwhile
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "qmp-" + vm + "-quit");
        t.start();
    }

    @Override
    public QmpVersion version() {
        return version;
    }

    // --- events ----------------------------------------------------------------------------------------

    @Override
    public void statusChanged(String vm, MigrationStatus status, long timeMillis) {
        ObjectNode data = JsonNodeFactory.instance.objectNode().put("status", status.qemuName());
        events.add(() -> send(vm, "MIGRATION", data, timeMillis * 1000));
    }

    @Override
    public void passStarted(String vm, long pass, long timeMillis) {
        ObjectNode data = JsonNodeFactory.instance.objectNode().put("pass", pass);
        events.add(() -> send(vm, "MIGRATION_PASS", data, timeMillis * 1000));
    }

    private void eventLoop() {
        while (running) {
            try {
                events.take().run();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("QMP events: {}", e.toString(), e);
            }
        }
    }

    /**
     * QEMU's events of a run state change: STOP when the guest stops running (a user's stop, a
     * migration's, a guest error; after SHUTDOWN when the guest shut itself down), RESUME when it runs.
     * Moves between stopped states say nothing, as in QEMU.
     */
    private void runStateEvents(String vm, RunState from, RunState to, long micros) {
        if (to == RunState.SHUTDOWN) {
            send(vm, "SHUTDOWN", shutdown(true, "guest-shutdown"), micros);
        }
        if (from == RunState.RUNNING) {
            send(vm, "STOP", null, micros);
        } else if (to == RunState.RUNNING) {
            send(vm, "RESUME", null, micros);
        }
    }

    private static ObjectNode shutdown(boolean guest, String reason) {
        return JsonNodeFactory.instance.objectNode().put("guest", guest).put("reason", reason);
    }

    private static long nowMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }

    private void send(String vm, String event, ObjectNode data, long micros) {
        VmQmp q = perVm.get(vm);
        if (q != null) {
            send(q, event, data, micros);
        }
    }

    private void send(VmQmp q, String event, ObjectNode data, long micros) {
        ObjectNode e = JsonNodeFactory.instance.objectNode().put("event", event);
        if (data != null) {
            e.set("data", data);
        }
        e.putObject("timestamp").put("seconds", micros / 1_000_000).put("microseconds", micros % 1_000_000);
        byte[] line;
        try {
            line = (json.writeValueAsString(e) + "\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } catch (JsonProcessingException x) {
            throw new IllegalStateException("cannot write QMP event", x); // our own tree: a bug
        }
        q.servers.forEach(s -> s.broadcast(line));
    }

    /**
     * The VM goes: its clients hear SHUTDOWN (QEMU's reason for quit, {@code host-qmp-quit}, or
     * {@code host-ui} for the shell's vm_destroy), then its servers close. The objects its QMP added
     * go too, as a QEMU process's objects end with it.
     */
    private void destroying(Vm vm) {
        TlsService t = tls;
        if (t != null) {
            ObjectCommands.deleteAll(t, vm.name());
        }
        VmQmp q;
        synchronized (this) {
            q = perVm.remove(vm.name());
        }
        if (q == null) {
            return;
        }
        boolean quit = quitting.remove(vm.name());
        send(q, "SHUTDOWN", shutdown(false, quit ? "host-qmp-quit" : "host-ui"), nowMicros());
        q.servers.forEach(s -> s.close(DRAIN));
    }
}
