package io.godwit.qmp.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.godwit.api.migration.MigrationCapability;
import io.godwit.api.migration.MigrationParameter;
import io.godwit.api.migration.MigrationService;
import io.godwit.api.migration.MigrationStatus;
import io.godwit.api.migration.MigrationTextParameter;
import io.godwit.api.vm.RunState;
import io.godwit.api.vm.VcpuInfo;
import io.godwit.api.vm.Vm;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The QMP commands of one VM, by QEMU's QAPI names, with QEMU's argument names and result members
 * (qapi/misc.json, qapi/run-state.json, qapi/machine.json, qapi/migration.json, qapi/qom.json). Each
 * reads its arguments completely, and so refuses a wrong one, before it acts. Runs on the client's thread.
 */
final class QmpCommands {

    /** The one command allowed before the negotiation, and refused after it. */
    static final String CAPABILITIES = "qmp_capabilities";

    @FunctionalInterface
    interface Command {
        JsonNode run(Args args) throws Exception;
    }

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final String vm;
    private final QmpHost host;
    private final Map<String, Command> table = new TreeMap<>();

    QmpCommands(String vm, QmpHost host) {
        this.vm = vm;
        this.host = host;
        table.put(CAPABILITIES, this::capabilities);
        table.put("query-version", noArgs(() -> host.version().json()));
        table.put("query-commands", noArgs(this::queryCommands));
        table.put("query-name", noArgs(() -> JSON.objectNode().put("name", vm)));
        table.put("query-status", noArgs(this::queryStatus));
        table.put("query-cpus-fast", noArgs(this::queryCpus));
        table.put("stop", noArgs(this::stop));
        table.put("cont", noArgs(this::cont));
        table.put("quit", noArgs(this::quit));
        table.put("human-monitor-command", this::humanMonitorCommand);
        ObjectCommands objects = new ObjectCommands(vm, host::tls);
        table.put("object-add", objects::add);
        table.put("object-del", objects::delete);
        MigrationCommands m = new MigrationCommands(vm, host::migration, objects);
        table.put("migrate", m::migrate);
        table.put("migrate-incoming", m::incoming);
        table.put("migrate_cancel", noArgs(m::cancel));
        table.put("migrate-continue", m::continueMigration);
        table.put("migrate-start-postcopy", noArgs(m::startPostcopy));
        table.put("migrate-recover", m::recover);
        table.put("migrate-pause", noArgs(m::pause));
        table.put("migrate-set-capabilities", m::setCapabilities);
        table.put("query-migrate-capabilities", noArgs(m::capabilities));
        table.put("migrate-set-parameters", m::setParameters);
        table.put("query-migrate-parameters", noArgs(m::parameters));
        table.put("query-migrate", noArgs(m::info));
    }

    /**
     * Runs a command.
     *
     * @throws QmpError CommandNotFound for an unknown name, GenericError for bad arguments or a failure
     */
    JsonNode execute(String name, Args args) throws Exception {
        Command c = table.get(name);
        if (c == null) {
            throw QmpError.notFound("The command " + name + " has not been found");
        }
        return c.run(args);
    }

    interface Body {
        JsonNode run() throws Exception;
    }

    private static Command noArgs(Body body) {
        return args -> {
            args.done();
            return body.run();
        };
    }

    static ObjectNode empty() {
        return JSON.objectNode();
    }

    private Vm vm() {
        return host.vms().get(vm).orElseThrow(() -> QmpError.generic("VM " + vm + " has been destroyed"));
    }

    /** {@code enable} may only name capabilities the greeting offered, and it offers none (no oob). */
    private JsonNode capabilities(Args args) {
        java.util.List<String> enable = args.optStrings("enable");
        args.done();
        if (!enable.isEmpty()) {
            throw QmpError.generic("Capability '" + enable.getFirst() + "' not available"); // QEMU's wording
        }
        return empty();
    }

    private JsonNode queryCommands() {
        ArrayNode list = JSON.arrayNode();
        table.keySet().forEach(n -> list.addObject().put("name", n));
        return list;
    }

    private JsonNode queryStatus() {
        RunState s = vm().state();
        return JSON.objectNode()
                .put("status", s.qemuName())
                .put("singlestep", false)
                .put("running", s == RunState.RUNNING);
    }

    private JsonNode queryCpus() {
        Vm v = vm();
        String target = v.spec().cpuBackend().equals("riscv") ? "riscv64" : v.spec().cpuBackend();
        ArrayNode cpus = JSON.arrayNode();
        for (VcpuInfo c : v.cpus()) {
            cpus.addObject()
                    .put("cpu-index", c.index())
                    .put("qom-path", "/machine/unattached/device[" + c.index() + "]")
                    .put("thread-id", c.threadId())
                    .put("target", target);
        }
        return cpus;
    }

    private JsonNode stop() throws InterruptedException {
        vm().stop(RunState.PAUSED);
        host.eventsSent();
        return empty();
    }

    private JsonNode cont() throws InterruptedException {
        vm().cont();
        host.eventsSent();
        return empty();
    }

    /** Checks only: the VM ends in {@link #afterReply}, so that the client gets its reply first. */
    private JsonNode quit() {
        vm();
        return empty();
    }

    /** Called once a command's reply is queued for the client. */
    void afterReply(String command) {
        if (command.equals("quit")) {
            host.quit(vm);
        }
    }

    private JsonNode humanMonitorCommand(Args args) {
        String line = args.string("command-line");
        args.optInteger("cpu-index"); // QEMU's: the CPU HMP commands default to; Godwit's commands name no CPU
        args.done();
        return JSON.textNode(HumanMonitor.run(host.shell(), line));
    }

    /** The migration commands, over {@link MigrationService}. */
    static final class MigrationCommands {

        private final String vm;
        private final java.util.function.Supplier<MigrationService> service;
        /** tls-creds and tls-authz name this VM's own objects (see {@link ObjectCommands}). */
        private final ObjectCommands objects;

        MigrationCommands(String vm, java.util.function.Supplier<MigrationService> service, ObjectCommands objects) {
            this.vm = vm;
            this.service = service;
            this.objects = objects;
        }

        /** QEMU's migrate returns at once whatever {@code detach} says ("ignored by QEMU"). */
        JsonNode migrate(Args args) {
            String uri = args.string("uri");
            args.optBool("detach", false);
            boolean resume = args.optBool("resume", false);
            if (args.optBool("blk", false)) {
                throw QmpError.generic("Parameter 'blk' is not supported: set capability copy-storage instead");
            }
            args.optBool("inc", false);
            args.done();
            MigrationService m = service.get();
            if (resume) {
                m.resumePostcopy(vm, uri);
            } else {
                m.migrate(vm, uri);
            }
            return empty();
        }

        JsonNode incoming(Args args) {
            String uri = args.string("uri");
            args.optBool("exit-on-error", true);
            args.done();
            service.get().incoming(vm, uri);
            return empty();
        }

        JsonNode cancel() {
            service.get().cancel(vm);
            return empty();
        }

        JsonNode continueMigration(Args args) {
            String state = args.string("state");
            args.done();
            if (MigrationStatus.PRE_SWITCHOVER.qemuName().equals(state)) {
                service.get().continueMigration(vm);
                return empty();
            }
            if (java.util.Arrays.stream(MigrationStatus.values()).noneMatch(s -> s.qemuName().equals(state))) {
                throw args.badValue("state", state);
            }
            // QEMU's own wording (migration.c, qmp_migrate_continue)
            throw QmpError.generic("Migration not in expected state: " + state);
        }

        JsonNode startPostcopy() {
            service.get().startPostcopy(vm);
            return empty();
        }

        JsonNode recover(Args args) {
            String uri = args.string("uri");
            args.done();
            service.get().recoverPostcopy(vm, uri);
            return empty();
        }

        JsonNode pause() {
            service.get().pausePostcopy(vm);
            return empty();
        }

        /** All or nothing, as QEMU: every member is checked before any capability changes. */
        JsonNode setCapabilities(Args args) {
            Map<MigrationCapability, Boolean> wanted = new LinkedHashMap<>();
            for (Args item : args.objects("capabilities")) {
                String name = item.string("capability");
                boolean state = item.bool("state");
                item.done();
                wanted.put(MigrationCapability.byName(name).orElseThrow(() -> item.badValue("capability", name)), state);
            }
            MigrationService m = service.get();
            wanted.forEach((c, on) -> m.setCapability(vm, c, on));
            return empty();
        }

        JsonNode capabilities() {
            MigrationService m = service.get();
            ArrayNode list = JSON.arrayNode();
            for (MigrationCapability c : MigrationCapability.values()) {
                list.addObject().put("capability", c.qemuName()).put("state", m.capability(vm, c));
            }
            return list;
        }

        /** QEMU's flat object of optional members; all are checked before any is set. */
        JsonNode setParameters(Args args) {
            Map<MigrationParameter, Long> wanted = new LinkedHashMap<>();
            for (MigrationParameter p : MigrationParameter.values()) {
                Long value = p.words() != null
                        ? args.optString(p.qemuName()).map(a -> word(args, p, a)).orElse(null)
                        : args.optInteger(p.qemuName()).orElse(null);
                if (value != null) {
                    try {
                        wanted.put(p, p.check(value));
                    } catch (IllegalArgumentException e) {
                        throw QmpError.generic("Parameter '" + p.qemuName() + "' expects " + e.getMessage());
                    }
                }
            }
            Map<MigrationTextParameter, String> texts = new LinkedHashMap<>();
            for (var p : MigrationTextParameter.values()) {
                args.optString(p.qemuName()).ifPresent(v -> texts.put(p, v));
            }
            args.done();
            for (var p : List.of(MigrationTextParameter.TLS_CREDS, MigrationTextParameter.TLS_AUTHZ)) {
                texts.computeIfPresent(p, (k, id) -> objects.resolve(id));
            }
            MigrationService m = service.get();
            wanted.forEach((p, v) -> m.setParameter(vm, p, v));
            texts.forEach((p, v) -> m.setParameter(vm, p, v));
            return empty();
        }

        private static long word(Args args, MigrationParameter p, String name) {
            int index = p.words().indexOf(name);
            if (index < 0) {
                throw args.badValue(p.qemuName(), name);
            }
            return index;
        }

        JsonNode parameters() {
            MigrationService m = service.get();
            ObjectNode p = JSON.objectNode();
            for (MigrationParameter param : MigrationParameter.values()) {
                long v = m.parameter(vm, param);
                if (param.words() != null) {
                    p.put(param.qemuName(), param.words().get((int) v));
                } else {
                    p.put(param.qemuName(), v);
                }
            }
            for (var param : MigrationTextParameter.values()) {
                String v = m.parameter(vm, param); // QEMU shows "" for an unset tls-creds
                p.put(param.qemuName(), param == MigrationTextParameter.TLS_HOSTNAME ? v : objects.shown(v));
            }
            return p;
        }

        JsonNode info() {
            return MigrateInfoJson.of(service.get().info(vm));
        }
    }
}
