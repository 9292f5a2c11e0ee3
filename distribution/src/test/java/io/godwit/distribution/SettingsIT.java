package io.godwit.distribution;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.function.Predicate;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Settings the Karaf way, in host processes of the assembled home: FileInstall turns
 * {@code etc/io.godwit.migration.cfg} into a ConfigAdmin configuration, and a change to the file
 * applies to the next migration without a restart. A jar in {@code deploy/} that carries the
 * ConfigAdmin API (imports and exports {@code org.osgi.service.cm}, as bnd makes a bundle that
 * embeds it) neither hangs the host's start nor refreshes SCR and FileInstall under it. Log levels
 * and deploy/'s watcher (its poll interval) come from etc/ too. Each host watches an etc/ folder
 * of its own ({@code -Dfelix.fileinstall.dir}) and, through a copy of the home's
 * {@code org.apache.felix.fileinstall-deploy.cfg} there, a deploy/ folder of its own, so the
 * shared home is left alone.
 */
@Timeout(240)
class SettingsIT {

    private static final String GUEST = "--memory 128M --vcpus 2 --workload sweep:rate=5000";
    private static final Duration READY = Duration.ofSeconds(60);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+)");
    private static final String DEPLOY_CFG = "org.apache.felix.fileinstall-deploy.cfg";
    private static final Pattern CLEAN = Pattern.compile("(?m)^bad pages:\\s+0$");

    private final List<HostProcess> hosts = new ArrayList<>();
    private Path home;
    private Path dir;

    @BeforeEach
    void setUp() throws IOException {
        home = Path.of(System.getProperty("godwit.home", "target/godwit")).toAbsolutePath();
        dir = Files.createTempDirectory(Path.of("/tmp"), "godwit-settings-it-"); // short: unix socket paths
    }

    @AfterEach
    void tearDown() throws IOException, InterruptedException {
        boolean hung = false;
        for (HostProcess host : hosts) {
            hung |= !host.stop();
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertFalse(hung, "a host needed SIGKILL after SIGTERM");
    }

    /**
     * A host watching {@code NAME-etc}, and {@code NAME-deploy} through the home's own
     * {@code etc/org.apache.felix.fileinstall-deploy.cfg} copied there with the folder changed;
     * not yet waited for.
     */
    private HostProcess host(String name) throws Exception {
        Path etc = Files.createDirectories(dir.resolve(name + "-etc"));
        Path deploy = Files.createDirectories(dir.resolve(name + "-deploy"));
        Files.writeString(etc.resolve(DEPLOY_CFG), deployCfg(deploy, null));
        HostProcess host = HostProcess.start(home, dir, name, "-Dfelix.fileinstall.dir=" + etc);
        hosts.add(host);
        return host;
    }

    /** The home's deploy watcher configuration for {@code deploy}, with {@code extra} lines after it. */
    private String deployCfg(Path deploy, String extra) throws IOException {
        String shipped = Files.readString(home.resolve("etc").resolve(DEPLOY_CFG), StandardCharsets.UTF_8);
        assertContains(shipped, "${godwit.home}/deploy");
        return shipped.replace("${godwit.home}/deploy", deploy.toString()) + (extra == null ? "" : extra);
    }

    private String log(String name) throws IOException {
        return Files.readString(dir.resolve(name + ".log"), StandardCharsets.UTF_8);
    }

    /**
     * deploy/ is watched through its .cfg, whose watcher FileInstall makes after the start: the host
     * still reports ready only with the plugins of deploy/ started (a plugin whose activator takes
     * 3 s is Active at the first command after ready, with no waiting).
     */
    @Test
    void theHostIsReadyOnlyOnceDeploysFirstScanHasStartedItsPlugins() throws Exception {
        Files.createDirectories(dir.resolve("host-deploy"));
        writeSlowBundle(dir.resolve("host-deploy/slow.jar"), "org.example.slow");
        HostProcess host = host("host");
        host.awaitReady(READY);
        String lb = host.run("lb").ok().out();
        assertTrue(activeLine(lb, "org.example.slow"), "the deploy/ plugin is not Active when the host is ready:\n" + lb);
    }

    /**
     * The deploy watcher's poll interval comes from its .cfg, and an edit applies without a restart:
     * FileInstall's watcher says the interval it runs with (at debug, which etc/io.godwit.log.cfg
     * turns on for FileInstall's logger while the host runs), and with an hour's interval a jar moved
     * into deploy/ stays out; an edit back to a short interval takes it in.
     */
    @Test
    void theDeployWatchersPollIntervalFollowsItsCfg() throws Exception {
        HostProcess host = host("host");
        host.awaitReady(READY);
        Path etc = dir.resolve("host-etc");
        Path deploy = dir.resolve("host-deploy");
        writeAtomically(etc.resolve("io.godwit.log.cfg"), "fileinstall = debug\n");
        awaitLog("host", "io.godwit.log: fileinstall = debug");
        writeAtomically(etc.resolve(DEPLOY_CFG), deployCfg(deploy, "felix.fileinstall.log.level = 4\nfelix.fileinstall.poll = 3600000\n"));
        awaitLog("host", "felix.fileinstall.poll (ms) = 3600000, felix.fileinstall.dir = " + deploy);

        Path tmp = dir.resolve("late.tmp");
        writeCmApiBundle(tmp, "org.example.late");
        Files.move(tmp, deploy.resolve("late.jar"), StandardCopyOption.ATOMIC_MOVE);
        // Twenty times the shipped 250 ms: a watcher that polled would have taken the jar by now.
        Thread.sleep(5000);
        String lb = host.run("lb").ok().out();
        assertFalse(lb.contains("org.example.late"), "a watcher polling once an hour took the jar:\n" + lb);

        writeAtomically(etc.resolve(DEPLOY_CFG), deployCfg(deploy, "felix.fileinstall.poll = 100\n"));
        await(host, "lb", out -> activeLine(out, "org.example.late"), "the jar after the poll interval was edited back");
    }

    /**
     * etc/io.godwit.log.cfg sets log levels while the host runs: the coordinator's debug line about a
     * migration's setup is absent from the source's log for the migration before the edit, and there
     * for the one after it.
     */
    @Test
    void aLogLevelEditAppliesToTheNextMigrationWithoutARestart() throws Exception {
        HostProcess source = host("source");
        HostProcess destination = host("destination");
        source.awaitReady(READY);
        destination.awaitReady(READY);
        source.run("vm_create first " + GUEST + "; vm_create second " + GUEST).ok();

        assertContains(source.run("migrate first " + incoming(destination, "first")).ok().out(), "Migration status: completed");
        assertClean(destination.run("stop first; vm_check first").ok());
        assertFalse(log("source").contains("first: setup: connected after"), "a debug line at the default level:\n" + log("source"));

        writeAtomically(dir.resolve("source-etc/io.godwit.log.cfg"), "io.godwit.coordinator = debug\nio.godwit.kernel = loud\n");
        awaitLog("source", "io.godwit.log: io.godwit.coordinator = debug");
        assertContains(log("source"), "io.godwit.log: io.godwit.kernel = loud: not a level");
        assertContains(source.run("migrate second " + incoming(destination, "second")).ok().out(), "Migration status: completed");
        assertClean(destination.run("stop second; vm_check second").ok());
        assertTrue(Pattern.compile("(?m) DEBUG io\\.godwit\\.coordinator\\.internal\\.OutgoingMigration - second: setup: connected after")
                .matcher(log("source")).find(), "no debug line after the edit:\n" + log("source"));
    }

    /** Waits until the host's log file holds {@code text}. */
    private void awaitLog(String name, String text) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!log(name).contains(text)) {
            if (System.nanoTime() > deadline) {
                fail("no '" + text + "' in the log of " + name + " after " + WAIT.toSeconds() + " s:\n" + log(name));
            }
            Thread.sleep(100);
        }
    }

    /** The manifest of a bundle {@code bsn} 1.0.0 with these imports. */
    private static Manifest bundleManifest(String bsn, String imports) {
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", bsn);
        a.putValue("Bundle-Version", "1.0.0");
        a.putValue("Import-Package", imports);
        return mf;
    }

    /** A bundle whose activator ({@link SlowActivator}) takes seconds to start. */
    private static void writeSlowBundle(Path jar, String bsn) throws IOException {
        Manifest mf = bundleManifest(bsn, "org.osgi.framework;version=\"[1.8,2)\"");
        mf.getMainAttributes().putValue("Bundle-Activator", SlowActivator.class.getName());
        String entry = SlowActivator.class.getName().replace('.', '/') + ".class";
        try (OutputStream file = Files.newOutputStream(jar);
             JarOutputStream out = new JarOutputStream(file, mf);
             InputStream in = SlowActivator.class.getClassLoader().getResourceAsStream(entry)) {
            assertTrue(in != null, "no " + entry + " on the test class path");
            out.putNextEntry(new JarEntry(entry));
            in.transferTo(out);
            out.closeEntry();
        }
    }

    @Test
    void aChangedCfgAppliesToTheNextMigrationWithoutARestart() throws Exception {
        HostProcess source = host("source");
        HostProcess destination = host("destination");
        source.awaitReady(READY);
        destination.awaitReady(READY);
        source.run("vm_create guest " + GUEST).ok();
        assertContains(source.run("info migrate_capabilities guest").ok().out(), "verify-ram: off");
        assertContains(source.run("info migrate_parameters guest").ok().out(), "downtime-limit: 300 ms");

        long t0 = System.nanoTime();
        writeAtomically(dir.resolve("source-etc/io.godwit.migration.cfg"),
                "# edited while the host runs\nverify-ram = on\ndowntime-limit = 250\nno-such-setting = 1\n");
        await(source, "info migrate_capabilities guest", out -> out.contains("verify-ram: on"), "the edited .cfg");
        long appliedMs = (System.nanoTime() - t0) / 1_000_000;
        assertContains(source.run("info migrate_parameters guest").ok().out(), "downtime-limit: 250 ms");
        assertContains(source.diagnostics(), "io.godwit.migration: no-such-setting = 1: unknown setting");

        String uri = incoming(destination);
        HostProcess.Result done = source.run("migrate guest " + uri).ok();
        assertContains(done.out(), "Migration status: completed");
        assertTrue(Pattern.compile("(?m)^verify-ram:\\s+\\d+ ms").matcher(done.out()).find(),
                "the migration after the edit did not run with verify-ram:\n" + done);
        assertClean(destination.run("stop guest; vm_check guest").ok());

        // The file goes: the built-in values come back, still without a restart.
        Files.delete(dir.resolve("source-etc/io.godwit.migration.cfg"));
        source.run("vm_create second " + GUEST).ok();
        await(source, "info migrate_capabilities second", out -> out.contains("verify-ram: off"), "the deleted .cfg");
        System.out.printf("SettingsIT: the edited .cfg applied %d ms after the rename%n", appliedMs);
    }

    /**
     * A deploy/ jar with the ConfigAdmin API: before FileInstall's refresh scope was "managed", it
     * refreshed every bundle with an optional import of org.osgi.service.cm, SCR (every component
     * restarts, every VM goes) and FileInstall itself, whose watcher then waits for its own stop:
     * at start the host never became ready; at run time FileInstall never scanned again.
     */
    @Test
    void aDeployJarCarryingTheConfigAdminApiNeitherHangsNorRefreshesTheHost() throws Exception {
        Files.createDirectories(dir.resolve("host-deploy"));
        writeCmApiBundle(dir.resolve("host-deploy/cm-api-at-start.jar"), "org.example.cm-api-at-start");
        HostProcess host = host("host");
        host.awaitReady(READY);
        await(host, "lb", out -> activeLine(out, "org.example.cm-api-at-start"), "the jar dropped before the start");
        host.run("vm_create guest " + GUEST).ok();

        Path tmp = dir.resolve("cm-api-at-run.tmp");
        writeCmApiBundle(tmp, "org.example.cm-api-at-run");
        Files.move(tmp, dir.resolve("host-deploy/cm-api-at-run.jar"), StandardCopyOption.ATOMIC_MOVE);
        await(host, "lb", out -> activeLine(out, "org.example.cm-api-at-run"), "the jar dropped at run time");
        // FileInstall still scans (a .cfg applies), and SCR was not refreshed: the VM is still there.
        writeAtomically(dir.resolve("host-etc/io.godwit.migration.cfg"), "postcopy-ram = on\n");
        await(host, "info migrate_capabilities guest", out -> out.contains("postcopy-ram: on"), "a .cfg after the jar");
        assertContains(host.run("info status guest").ok().out(), "VM status: running");
        host.run("stop guest").ok();
        assertClean(host.run("vm_check guest").ok());
    }

    /**
     * etc/io.godwit.monitor.cfg adds a monitor socket beside the launcher's own, and follows the file:
     * an edit moves it, deleting the file closes it; the launcher's monitor stays throughout.
     */
    @Test
    void theMonitorAddressFollowsItsCfg() throws Exception {
        HostProcess host = host("host");
        host.awaitReady(READY);
        Path first = dir.resolve("first.sock");
        Path second = home.resolve("run/" + host.pid() + "/second.sock"); // ${godwit.run}, resolved by FileInstall
        Path cfg = dir.resolve("host-etc/io.godwit.monitor.cfg");
        writeAtomically(cfg, "address = unix:" + first + "\n");
        awaitMonitor(first, "vm_create extra --memory 16M", "created VM extra");
        writeAtomically(cfg, "address = unix:${godwit.run}/second.sock\n");
        awaitMonitor(second, "vm_list", "extra");
        assertFalse(Files.exists(first), "the old socket is still there");
        Files.delete(cfg);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (Files.exists(second)) {
            assertTrue(System.nanoTime() < deadline, "the monitor of a deleted .cfg still listens\n" + host.diagnostics());
            Thread.sleep(100);
        }
        assertContains(host.run("vm_list").ok().out(), "extra");
    }

    /** Runs {@code script} on the monitor at {@code socket} once it answers; fails after {@link #WAIT}. */
    private static void awaitMonitor(Path socket, String script, String expected) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        var address = io.godwit.launcher.MonitorAddress.parse("unix:" + socket, "--monitor");
        while (true) {
            var out = new java.io.ByteArrayOutputStream();
            var err = new java.io.ByteArrayOutputStream();
            int exit = -1;
            if (Files.exists(socket)) {
                try (var o = new java.io.PrintStream(out, true, StandardCharsets.UTF_8);
                     var e = new java.io.PrintStream(err, true, StandardCharsets.UTF_8)) {
                    exit = new io.godwit.launcher.MonitorClient(o, e).run(address, script);
                }
            }
            if (exit == 0 && out.toString(StandardCharsets.UTF_8).contains(expected)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("no monitor answering at " + socket + " after " + WAIT.toSeconds() + " s: status " + exit + "\n"
                        + out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8));
            }
            Thread.sleep(100);
        }
    }

    private static boolean activeLine(String lb, String bsn) {
        return lb.lines().anyMatch(l -> l.contains("Active") && l.contains(bsn));
    }

    /**
     * A bundle that embeds the ConfigAdmin API and exports it, importing it too (a substitutable
     * export, as bnd writes it for an API package a bundle carries), with the classes from the home's
     * own ConfigAdmin jar.
     */
    private void writeCmApiBundle(Path jar, String bsn) throws IOException {
        Manifest mf = bundleManifest(bsn,
                "org.osgi.framework;version=\"[1.8,2)\",org.osgi.service.cm;version=\"[1.6,1.7)\"");
        mf.getMainAttributes().putValue("Export-Package", "org.osgi.service.cm;version=\"1.6.0\";uses:=\"org.osgi.framework\"");
        try (JarFile cm = new JarFile(home.resolve("bundle/org.apache.felix.configadmin.jar").toFile());
             OutputStream file = Files.newOutputStream(jar);
             JarOutputStream out = new JarOutputStream(file, mf)) {
            int classes = 0;
            for (Enumeration<JarEntry> e = cm.entries(); e.hasMoreElements(); ) {
                JarEntry entry = e.nextElement();
                if (entry.getName().startsWith("org/osgi/service/cm/") && entry.getName().endsWith(".class")) {
                    out.putNextEntry(new JarEntry(entry.getName()));
                    try (InputStream in = cm.getInputStream(entry)) {
                        in.transferTo(out);
                    }
                    out.closeEntry();
                    classes++;
                }
            }
            assertTrue(classes > 5, "the ConfigAdmin jar holds no org.osgi.service.cm classes");
        }
    }

    /** As a user should: write under a name FileInstall ignores, then rename into place. */
    private static void writeAtomically(Path target, String text) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String incoming(HostProcess destination) {
        return incoming(destination, "guest");
    }

    private static String incoming(HostProcess destination, String vm) {
        HostProcess.Result created = destination.run("vm_create " + vm + " " + GUEST + " --incoming tcp:127.0.0.1:0").ok();
        Matcher m = LISTENING.matcher(created.out());
        if (!m.find()) {
            fail("vm_create --incoming did not say where it listens\n" + created);
        }
        return m.group(1);
    }

    private static String await(HostProcess host, String script, Predicate<String> until, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            String out = host.run(script).out();
            if (until.test(out)) {
                return out;
            }
            if (System.nanoTime() > deadline) {
                fail("still waiting for " + what + " after " + WAIT.toSeconds() + " s:\n" + out + "\n" + host.diagnostics());
            }
            Thread.sleep(100);
        }
    }

    private static void assertClean(HostProcess.Result check) {
        assertTrue(CLEAN.matcher(check.out()).find(), "vm_check did not report 0 bad pages\n" + check);
    }

    private static void assertContains(String text, String expected) {
        assertTrue(text.contains(expected), "expected '" + expected + "' in:\n" + text);
    }
}
