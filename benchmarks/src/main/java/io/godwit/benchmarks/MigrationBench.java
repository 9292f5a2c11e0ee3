package io.godwit.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The end-to-end migration benchmark ({@code benchmarks/run migration}): two real host processes,
 * driven through their monitor sockets as a user would, migrate static, idle and dirtying guests;
 * each static migration runs beside a raw stream of the same bytes between the same two processes
 * over the same transport (the probe bundle, scope {@code bench}); every completed migration is
 * checked on the destination with the workload's oracle ({@code vm_check}). A guest precopy cannot
 * finish (the full-speed sweep) goes over in postcopy, against one raw pass of its RAM on the same
 * link, and with auto-converge beside it. Prints the tables and the targets of the benchmark issues
 * with PASS or MISS.
 *
 * <p>Usage: {@code MigrationBench --dist DIR --probe JAR [--runs N] [--quick] [--scenarios A,B] [--keep-logs DIR]
 * [--postcopy-at-sync N] [--no-prealloc]}.
 * The hosts run from a temporary copy of the distribution (with the probe in its {@code bundle/}),
 * which is deleted at the end, also after a failure or Ctrl-C.
 */
public final class MigrationBench {

    static final int LIMIT_MS = 300;
    static final String VM = "guest";

    /**
     * Dirty sync count at which the postcopy scenarios call {@code migrate_start_postcopy} by default:
     * 1 at setup (typed right after {@code migrate -d}: pure postcopy, for a guest that dirties all of
     * its RAM within one pass, where every precopy pass is sent again), 2 after the full pass, 4 after
     * two dirty passes (the third is cut at its first batch).
     */
    static final int POSTCOPY_AT_SYNC = 1;

    /** How the migration ends: precopy alone, precopy with auto-converge, or a switch to postcopy. */
    enum Mode { PRECOPY, AUTO_CONVERGE, POSTCOPY }

    /**
     * What a scenario does beside the migration, to compare it with the same migration without: nothing,
     * capability verify-ram (issue 18), or a QMP client polling query-migrate every 100 ms (issue 13);
     * {@code QMP_QUIET} is the polling one's twin, its VM served by QMP but nobody asking; {@code TLS}:
     * tls-creds on both hosts (issue 15), against the same migration in clear; {@code MULTIFD} and
     * {@code TLS_MULTIFD}: the same with capability multifd (2 data channels, each its own TLS session).
     */
    enum Extra { NONE, VERIFY_RAM, QMP_QUIET, QMP_POLL, TLS, MULTIFD, TLS_MULTIFD;

        boolean tls() {
            return this == TLS || this == TLS_MULTIFD;
        }

        boolean multifd() {
            return this == MULTIFD || this == TLS_MULTIFD;
        }
    }

    /** One kind of migration: the guest, the transport, whether it has a raw baseline and a downtime target. */
    record Scenario(String id, String label, String transport, String memory, String workload, boolean raw,
            boolean downtimeTarget, int giveUpSeconds, Mode mode, Extra extra, Multifd multifd, boolean shaped) {

        Scenario(String id, String label, String transport, String memory, String workload, boolean raw,
                boolean downtimeTarget, int giveUpSeconds, Mode mode, Extra extra) {
            this(id, label, transport, memory, workload, raw, downtimeTarget, giveUpSeconds, mode, extra,
                    Multifd.SINGLE, false);
        }

        Scenario(String id, String label, String transport, String memory, String workload, boolean raw,
                boolean downtimeTarget, int giveUpSeconds) {
            this(id, label, transport, memory, workload, raw, downtimeTarget, giveUpSeconds, Mode.PRECOPY);
        }

        Scenario(String id, String label, String transport, String memory, String workload, boolean raw,
                boolean downtimeTarget, int giveUpSeconds, Mode mode) {
            this(id, label, transport, memory, workload, raw, downtimeTarget, giveUpSeconds, mode, Extra.NONE);
        }

        /**
         * Issue 18's and issue 13's pairs: the same migration with and without, no raw streams, given up
         * after {@code giveUp} seconds.
         */
        Scenario with(String id, String label, Extra extra, int giveUp) {
            return new Scenario(id, label, transport, memory, workload, false, downtimeTarget, giveUp, mode, extra);
        }

        /** Issue 14's rows ({@code --scenarios multifd,multifd-1g}): a single stream or multifd, on loopback or the shaped link. */
        boolean multifdRow() {
            return id.startsWith("mf-") || id.startsWith("mf1g-");
        }

        /** The guest precopy cannot finish: its figures go in the second table. */
        boolean busy() {
            return mode != Mode.PRECOPY;
        }
    }

    /** The migration's streams: the single one ({@code channels} 0), or multifd with that many data channels. */
    record Multifd(int channels, String compression) {
        static final Multifd SINGLE = new Multifd(0, "none");

        String label() {
            return channels == 0 ? "single stream"
                    : "multifd " + channels + (compression.equals("none") ? "" : " " + compression);
        }

        /** The source's settings after vm_create, empty for the single stream. */
        String sourceSettings() {
            return channels == 0 ? "" : "; migrate_set_capability " + VM + " multifd on; migrate_set_parameter " + VM
                    + " multifd-channels " + channels + "; migrate_set_parameter " + VM + " multifd-compression "
                    + compression;
        }
    }

    /** The variants each multifd row set compares, in the order they run in every round. */
    static final List<Multifd> MULTIFD_VARIANTS = List.of(Multifd.SINGLE, new Multifd(2, "none"),
            new Multifd(4, "none"), new Multifd(2, "zstd"), new Multifd(2, "zlib"));
    /** The static multifd guest: a quarter of each page random, so it compresses to about a quarter. */
    static final String COMPRESSIBLE_FILL = "fill:random=25";
    /**
     * The multifd rows' working set: 512 MiB swept at 5000 pages/s per vCPU (2 vCPUs: 39 MiB/s), which
     * even the uncompressed 1 Gbit/s link (119 MiB/s) outruns, so every variant converges.
     */
    static final String RATE_LIMITED_SWEEP = "sweep:512M,rate=5000";

    /**
     * Issue 14: static and working-set guests, each over a single stream and the multifd variants, on
     * loopback tcp ({@code mf-...}) or tcp over a veth pair shaped to 1 Gbit/s between two network
     * namespaces ({@code mf1g-...}, {@code benchmarks/netns link}).
     */
    static List<Scenario> multifdScenarios(boolean quick) {
        String big = quick ? "256M" : "1G";
        List<Scenario> all = new ArrayList<>();
        for (boolean shaped : new boolean[] {false, true}) {
            for (String guest : List.of("static", "sweep")) {
                for (Multifd m : MULTIFD_VARIANTS) {
                    boolean isStatic = guest.equals("static");
                    String id = (shaped ? "mf1g-" : "mf-") + guest + "-" + (m.channels() == 0 ? "single"
                            : m.compression().equals("none") ? m.channels() + "ch" : m.compression());
                    String label = (isStatic ? "static " + (quick ? "256 MiB" : "1 GiB") + " 1/4 random"
                            : "sweep 512 MiB 39 MiB/s") + (shaped ? " 1gbit" : " tcp") + ", " + m.label();
                    all.add(new Scenario(id, label, "tcp", isStatic ? big : "1G",
                            isStatic ? COMPRESSIBLE_FILL : RATE_LIMITED_SWEEP, false, false, 120, Mode.PRECOPY,
                            Extra.NONE, m, shaped));
                }
            }
        }
        return all;
    }

    static List<Scenario> scenarios(boolean quick) {
        List<Scenario> all = new ArrayList<>(classicScenarios(quick));
        all.addAll(multifdScenarios(quick));
        return all;
    }

    static List<Scenario> classicScenarios(boolean quick) {
        String big = quick ? "256M" : "1G";
        String bigLabel = quick ? "256 MiB" : "1 GiB";
        // Seconds after which a migration counts as not converging, is reported and cancelled: generous
        // for the guests that should finish in a second or two, about 25 s for the 512 MiB sweep.
        int giveUp = quick ? 15 : 25;
        Scenario staticTcp = new Scenario("static-tcp", "static " + bigLabel + " tcp", "tcp", big, "fill", true, true, 30);
        Scenario staticUnix = new Scenario("static-unix", "static " + bigLabel + " unix", "unix", big, "fill", true,
                true, 30);
        Scenario sweep16 = new Scenario("sweep-16m", "sweep 16 MiB tcp", "tcp", "1G", "sweep:16M", false, true, 30);
        return List.of(
                staticTcp,
                staticUnix,
                new Scenario("static-rdma", "static " + bigLabel + " rdma", "rdma", big, "fill", true, true, 30),
                new Scenario("static-exec", "static " + bigLabel + " exec", "exec", big, "fill", true, false, 60),
                new Scenario("idle-4g", "idle " + (quick ? "1 GiB" : "4 GiB") + " tcp", "tcp", quick ? "1G" : "4G",
                        "idle", false, false, 20),
                sweep16,
                new Scenario("sweep-512m", "sweep 512 MiB tcp", "tcp", "1G", "sweep:512M", false, false, giveUp),
                // The full-speed sweep on 2 vCPUs dirties RAM faster than any link here sends it.
                new Scenario("postcopy-tcp", "postcopy sweep " + bigLabel + " tcp", "tcp", big, "sweep", true, false,
                        60, Mode.POSTCOPY),
                new Scenario("postcopy-unix", "postcopy sweep " + bigLabel + " unix", "unix", big, "sweep", true,
                        false, 60, Mode.POSTCOPY),
                new Scenario("precopy-busy-tcp", "auto-converge sweep " + bigLabel + " tcp", "tcp", big, "sweep", false,
                        false, giveUp, Mode.AUTO_CONVERGE),
                // Issue 18: verify-ram off and on, next to each other in every round (no raw streams). What
                // they measure is the downtime and total time of migrations that complete: on a loaded host
                // a 1 GiB migration can take minutes, so they give up only after 120 s.
                staticTcp.with("verify-static-off", "static " + bigLabel + " tcp, verify off", Extra.NONE, 120),
                staticTcp.with("verify-static-on", "static " + bigLabel + " tcp, verify-ram", Extra.VERIFY_RAM, 120),
                sweep16.with("verify-sweep-off", "sweep 16 MiB tcp, verify off", Extra.NONE, 120),
                sweep16.with("verify-sweep-on", "sweep 16 MiB tcp, verify-ram", Extra.VERIFY_RAM, 120),
                // Issue 13: the same static migration with a QMP client polling query-migrate, and without
                staticUnix.with("qmp-quiet", "static " + bigLabel + " unix, QMP quiet", Extra.QMP_QUIET, 30),
                staticUnix.with("qmp-poll", "static " + bigLabel + " unix, QMP polled", Extra.QMP_POLL, 30),
                // Issue 15: TLS against plain, the same static migration over tcp one after the other
                staticTcp.with("static-plain-tcp", "static " + bigLabel + " tcp, plain", Extra.NONE, 120),
                staticTcp.with("static-tls-tcp", "static " + bigLabel + " tcp, TLS", Extra.TLS, 120),
                staticTcp.with("static-plain-multifd", "static " + bigLabel + " tcp multifd 2, plain", Extra.MULTIFD, 120),
                staticTcp.with("static-tls-multifd", "static " + bigLabel + " tcp multifd 2, TLS", Extra.TLS_MULTIFD,
                        120));
    }

    /** One migration's numbers (NaN where not known) and what became of it. */
    static final class Run {
        double totalMs = Double.NaN, downtimeMs = Double.NaN, observedMs = Double.NaN, mbps = Double.NaN;
        double passes = Double.NaN, rawMbps = Double.NaN, rawMs = Double.NaN;
        /** Multifd: the compression ratio (info migrate); both hosts' process CPU time over the migration, ms. */
        double ratio = Double.NaN, srcCpuMs = Double.NaN, dstCpuMs = Double.NaN;
        /** verify-ram's time on the source and on the destination ({@code info migrate}), ms. */
        double verifySrcMs = Double.NaN, verifyDstMs = Double.NaN;
        /** TLS: the session as info migrate shows it (protocol, cipher suite, peer). */
        String tls;
        /** QMP_POLL: each query-migrate's answer time, ms; the load average when the run ended. */
        List<Double> pollMs = List.of();
        double load = Double.NaN;
        /** The busy guest: the throttle it ended with, its progress per second before and during postcopy. */
        double throttle = Double.NaN, rateBefore = Double.NaN, rateDuring = Double.NaN;
        /** Postcopy, from the destination: postcopy-active phase, pages requested, blocked time, median latency. */
        double postcopyMs = Double.NaN, requests = Double.NaN, blocktimeMs = Double.NaN, latencyUs = Double.NaN;
        double bytes;
        boolean completed;
        /** Oracle passed: on the destination after a migration, on the source after a cancel. */
        boolean checked;
        /** Not converged within the give-up time, cancelled, and the source ran on. */
        boolean cancelledIntact;
        String verdict = "not run";
        String note;

        boolean withinLimit() {
            return completed && downtimeMs <= LIMIT_MS;
        }
    }

    private final Path dist;
    private final Path probe;
    private final int runs;
    private final int postcopyAtSync;
    /** Destination VMs with --mem-prealloc (the default: memory costs outside the clocks, see the README). */
    private final boolean prealloc;
    private final boolean quick;
    private final List<Scenario> chosen;
    private final Path work;
    private final Path keepLogs;
    private final Path home;
    private final Set<Process> processes = ConcurrentHashMap.newKeySet();
    private final Map<Scenario, List<Run>> results = new LinkedHashMap<>();
    /** The current scenario's hosts: the loopback pair, or the pair in the shaped link's namespaces. */
    private Host src;
    private Host dst;
    /** The TLS scenarios' credentials, added to both hosts as {@code tls0} at their first run. */
    private boolean tlsObjects;
    private Host loopSrc;
    private Host loopDst;
    private Host linkSrc;
    private Host linkDst;
    /** benchmarks/netns, the shaped link's rate, and once made the destination's address on it and its shape. */
    Path netns;
    String linkRate = "1gbit";
    private String linkDstIp;
    private String linkShape;
    private int seq;
    private volatile boolean cleaned;
    /** Set once the tables are out: a campaign stopped before (Ctrl-C, SIGTERM) prints what it has. */
    private volatile boolean reported;

    MigrationBench(Path dist, Path probe, int runs, boolean quick, List<Scenario> chosen, Path keepLogs,
            int postcopyAtSync, boolean prealloc) throws IOException {
        this.postcopyAtSync = postcopyAtSync;
        this.prealloc = prealloc;
        this.keepLogs = keepLogs;
        this.dist = dist;
        this.probe = probe;
        this.runs = runs;
        this.quick = quick;
        this.chosen = chosen;
        this.work = Files.createTempDirectory("godwit-bench-");
        this.home = work.resolve("home");
    }

    public static void main(String[] args) throws Exception {
        Path dist = null;
        Path probe = null;
        int runs = 1;
        int postcopyAtSync = POSTCOPY_AT_SYNC;
        boolean prealloc = true;
        boolean quick = false;
        String only = null;
        Path keepLogs = null;
        Path netns = null;
        String linkRate = "1gbit";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dist" -> dist = Path.of(args[++i]);
                case "--probe" -> probe = Path.of(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--quick" -> quick = true;
                case "--scenarios" -> only = args[++i];
                case "--keep-logs" -> keepLogs = Path.of(args[++i]);
                case "--postcopy-at-sync" -> postcopyAtSync = Integer.parseInt(args[++i]);
                case "--no-prealloc" -> prealloc = false;
                case "--netns" -> netns = Path.of(args[++i]);
                case "--link-rate" -> linkRate = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (dist == null || probe == null || runs < 1 || postcopyAtSync < 1) {
            throw new IllegalArgumentException("usage: MigrationBench --dist DIR --probe JAR [--runs N] [--quick]"
                    + " [--scenarios A,B] [--keep-logs DIR] [--postcopy-at-sync N] [--no-prealloc] [--netns PATH]"
                    + " [--link-rate RATE]");
        }
        MigrationBench bench = new MigrationBench(dist, probe, runs, quick, choose(only, quick), keepLogs,
                postcopyAtSync, prealloc);
        bench.netns = netns;
        bench.linkRate = linkRate;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            bench.reportIfStopped();
            bench.cleanup();
        }, "bench-cleanup"));
        int status;
        try {
            status = bench.run();
        } catch (Exception e) {
            System.err.println("migration benchmark: " + (bench.cleaned ? "stopped" : e.getMessage()));
            status = 1;
        }
        bench.cleanup();
        System.exit(status);
    }

    /**
     * The scenarios of {@code --scenarios}: ids, and the groups {@code multifd} (every {@code mf-} row)
     * and {@code multifd-1g} (every {@code mf1g-} row); none given, all but the multifd groups.
     */
    static List<Scenario> choose(String only, boolean quick) {
        List<Scenario> chosen = new ArrayList<>(scenarios(quick));
        if (only == null) {
            chosen.removeIf(Scenario::multifdRow);
            return chosen;
        }
        List<String> ids = Arrays.asList(only.split(","));
        chosen.removeIf(s -> !ids.contains(s.id()) && !(ids.contains("multifd") && s.id().startsWith("mf-"))
                && !(ids.contains("multifd-1g") && s.id().startsWith("mf1g-")));
        List<String> known = new ArrayList<>(List.of("multifd", "multifd-1g"));
        scenarios(false).forEach(s -> known.add(s.id()));
        if (!known.containsAll(ids)) {
            throw new IllegalArgumentException("--scenarios takes some of " + known + ", not " + only);
        }
        return chosen;
    }

    int run() throws Exception {
        String started = ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z"));
        String loadBefore = loadAverage();
        System.out.printf("Godwit migration benchmark, %s, %d cores, load average %s, %d run%s per scenario%s%n",
                started, Runtime.getRuntime().availableProcessors(), loadBefore, runs, runs == 1 ? "" : "s",
                quick ? " (quick: smaller guests, targets not judged)" : "");
        if (!prealloc) {
            System.out.println("destinations without --mem-prealloc: they fault RAM in as the migration writes it");
        }
        if (chosen.stream().anyMatch(s -> s.mode() == Mode.POSTCOPY)) {
            System.out.printf("postcopy: migrate_start_postcopy at dirty sync count %d (%s)%n", postcopyAtSync,
                    switch (postcopyAtSync) {
                        case 1 -> "before the first pass: pure postcopy";
                        case 2 -> "after the full pass";
                        default -> "after the full pass and " + (postcopyAtSync - 2) + " dirty passes";
                    });
        }
        copyHome();
        loopSrc = new Host("source", List.of());
        loopDst = new Host("destination", List.of());
        loopSrc.awaitReady();
        loopDst.awaitReady();
        if (chosen.stream().anyMatch(Scenario::shaped)) {
            startLink();
        }
        for (int r = 1; r <= runs; r++) {
            for (Scenario s : chosen) {
                src = s.shaped() ? linkSrc : loopSrc;
                dst = s.shaped() ? linkDst : loopDst;
                Run run = once(s);
                results.computeIfAbsent(s, k -> new ArrayList<>()).add(run);
                run.load = load1();
                System.out.printf("  %-20s run %d/%d: %s [load %.1f]%n", s.label(), r, runs, progress(run), run.load);
            }
        }
        System.out.println();
        System.out.printf("%s, load average %s at the start and %s at the end; downtime-limit %d ms%n", started,
                loadBefore, loadAverage(), LIMIT_MS);
        printTable();
        printNotes();
        if (!quick && chosen.stream().anyMatch(s -> !s.multifdRow())) {
            printTargets(); // the multifd rows' are MultifdTables'
        }
        ExtraTables.print(results, quick);
        MultifdTables.print(results, quick, linkShape);
        reported = true;
        // 0 when every run ended clean (oracle passed, or cancelled with the source intact); targets are a report
        return results.values().stream().flatMap(List::stream)
                .allMatch(run -> run.completed && run.checked || run.cancelledIntact) ? 0 : 1;
    }

    /** Stopped before the end: the tables of the runs that finished (the one under way is lost). */
    private void reportIfStopped() {
        if (reported || results.isEmpty()) {
            return;
        }
        try {
            System.out.printf("%nstopped early; the runs so far, load average %s now:%n", loadAverage());
            printTable();
            ExtraTables.print(results, quick);
            MultifdTables.print(results, quick, linkShape);
        } catch (RuntimeException e) {
            System.out.println("could not print the runs so far: " + e);
        }
    }

    // ---- one migration ------------------------------------------------------------------------

    Run once(Scenario s) throws Exception {
        Run run = new Run();
        int n = ++seq;
        long bytes = size(s.memory());
        run.bytes = bytes;
        String listen = listenUri(s, "mig-" + n);
        String shape = " --memory " + s.memory() + " --vcpus 2 --workload " + s.workload();
        boolean postcopy = s.mode() == Mode.POSTCOPY;
        // rdma registers the destination's RAM, which must be a shared file: tmpfs, as a real HCA pins RAM
        Path memFile = s.transport().equals("rdma") ? shm("mig-" + n) : null;
        boolean tls = s.extra().tls();
        // Set on the destination between --incoming defer and migrate_incoming; on the source after vm_create
        String options = (tls ? "; migrate_set_parameter " + VM + " tls-creds tls0" : "")
                + (s.extra().multifd() ? "; migrate_set_capability " + VM + " multifd on" : "");
        try {
            if (tls) {
                tlsCredentials();
            }
            String capabilities = (postcopy ? "migrate_set_capability " + VM + " postcopy-ram on; " : "")
                    + (s.multifd().channels() > 0 ? "migrate_set_capability " + VM + " multifd on; " : "");
            // the destination's settings between --incoming defer and migrate_incoming
            String deferred = capabilities + (options.isEmpty() ? "" : options.substring(2) + "; ");
            String create = "vm_create " + VM + shape + (prealloc ? " --mem-prealloc" : "")
                    + (memFile != null ? " --mem-path " + memFile : "")
                    + (deferred.isEmpty() ? " --incoming " + listen
                            : " --incoming defer; " + deferred + "migrate_incoming " + VM + " " + listen);
            Path qmp = s.extra() == Extra.QMP_QUIET || s.extra() == Extra.QMP_POLL ? work.resolve("qmp-" + n + ".sock")
                    : null;
            String uri = connectUri(s, listen, match(dst.must(create), "listening on (\\S+)"));
            // The busy guest's raw stream runs before it exists, as the one after runs with it stopped:
            // the link's own speed, not what two spinning vCPUs leave of two cores
            double[] before = s.raw() && s.busy() ? raw(s, n + "a") : null;
            src.must("vm_create " + VM + shape + (qmp != null ? " --qmp unix:" + qmp : "") + switch (s.mode()) {
                case POSTCOPY -> "; migrate_set_capability " + VM + " postcopy-ram on";
                case AUTO_CONVERGE -> "; migrate_set_capability " + VM + " auto-converge on";
                case PRECOPY -> "";
            } + (s.extra() == Extra.VERIFY_RAM ? "; migrate_set_capability " + VM + " verify-ram on" : "")
                    + options + (s.extra().multifd() ? "; migrate_set_parameter " + VM + " multifd-channels 2" : "")
                    + s.multifd().sourceSettings());
            if (s.transport().equals("exec")) {
                src.must("migrate_set_capability " + VM + " return-path off"); // exec is one-way
            }
            awaitWorkload(s, bytes);
            if (s.raw() && !s.busy()) {
                before = raw(s, n + "a");
            }
            if (postcopy) { // the guest's own pace on the source, with nothing of the benchmark's running
                run.rateBefore = number(src.must("bench:progress_rate " + VM + " 2000"), "= ([\\d.]+) per second");
            }
            Host watched = postcopy ? dst : src;
            if (s.busy()) {
                watched.must("bench:migration_watch " + VM);
            }
            src.must("migrate_set_parameter " + VM + " downtime-limit " + LIMIT_MS);
            QmpPoller poller = s.extra() == Extra.QMP_POLL ? new QmpPoller(qmp) : null;
            run.srcCpuMs = -src.cpuMs(); // the hosts' CPU time over the migration: what it cost them
            run.dstCpuMs = -dst.cpuMs();
            if (poller != null) {
                poller.start(); // a moment before the migration: the client's first look finds none yet
            }
            Call migrate;
            Call switched = null;
            if (postcopy && postcopyAtSync <= 1) {
                // Pure postcopy as a user types it: migrate -d, then migrate_start_postcopy at once, in one
                // client, so no second client's start-up (0.5-1 s here) lets precopy passes run meanwhile
                migrate = src.start("migrate -d " + VM + " " + uri + "; migrate_start_postcopy " + VM
                        + "; bench:end_wait " + VM + " " + s.giveUpSeconds());
            } else {
                migrate = src.start("migrate " + VM + " " + uri);
                switched = postcopy ? src.start("bench:pass_wait " + VM + " " + postcopyAtSync + " "
                        + s.giveUpSeconds() + "; migrate_start_postcopy " + VM) : null;
            }
            if (switched != null && (!switched.await(s.giveUpSeconds() + 30) || switched.exit() != 0)) {
                migrate.await(1);
                giveUp(s, run, migrate);
                run.note = "migrate_start_postcopy: " + firstLine(switched.output())
                        + (run.note != null ? "; " + run.note : "");
            } else if (migrate.await(s.giveUpSeconds())) {
                stopPolling(poller, run);
                finished(s, run, migrate);
            } else if (postcopy) { // past the point of no return: nothing to cancel
                run.verdict = "FAILED";
                run.note = "postcopy not done after " + s.giveUpSeconds() + " s: "
                        + firstLine(src.must("info migrate").replaceFirst("Migration status: ", ""));
            } else {
                stopPolling(poller, run);
                giveUp(s, run, migrate);
            }
            if (s.busy()) {
                watched(run, watched.call("bench:migration_wait 60", 90));
            }
            if (s.raw()) { // the baseline brackets the migration: the mean of a stream before and one after
                double[] after = raw(s, n + "b");
                run.rawMbps = (before[0] + after[0]) / 2;
                run.rawMs = (before[1] + after[1]) / 2;
            }
        } catch (Exception e) {
            run.verdict = "FAILED";
            run.note = firstLine(e.getMessage());
        } finally {
            dst.call("vm_destroy " + VM, 60);
            src.call("vm_destroy " + VM, 60);
            if (memFile != null) {
                Files.deleteIfExists(memFile);
            }
        }
        return run;
    }

    /** Once per campaign: certificates by openssl, and tls0 on both hosts (server on the destination). */
    private void tlsCredentials() throws Exception {
        if (tlsObjects) {
            return;
        }
        Path pki = BenchPki.make(work.resolve("pki"));
        dst.must("object_add tls-creds-x509,id=tls0,endpoint=server,dir=" + pki.resolve("server"));
        src.must("object_add tls-creds-x509,id=tls0,endpoint=client,dir=" + pki.resolve("client"));
        tlsObjects = true;
    }

    /** The migrate command returned: the poller stops, and says if it could not poll. */
    private static void stopPolling(QmpPoller poller, Run run) throws Exception {
        if (poller == null) {
            return;
        }
        run.pollMs = poller.stop();
        if (poller.error() != null) {
            run.note = "QMP poll failed: " + poller.error();
        }
        poller.close();
    }

    /** What the watch saw: the throttle the migration ended with, the guest's progress during postcopy. */
    private static void watched(Run run, Call wait) {
        String out = wait.output();
        if (wait.exit() != 0) {
            run.note = (run.note == null ? "" : run.note + "; ") + "watch: " + firstLine(out);
            return;
        }
        run.throttle = number(out, "final throttle (\\d+) %");
        Matcher m = Pattern.compile("postcopy-active: \\d+[^=]* in ([\\d.]+) ms = ([\\d.]+) per second").matcher(out);
        if (m.find()) {
            run.postcopyMs = Double.parseDouble(m.group(1));
            run.rateDuring = Double.parseDouble(m.group(2));
        }
    }

    /** The migrate command returned: read the statistics and check the destination with the oracle. */
    private void finished(Scenario s, Run run, Call migrate) throws Exception {
        String info = src.must("info migrate");
        parseStats(run, info);
        run.srcCpuMs += src.cpuMs();
        run.dstCpuMs += dst.cpuMs();
        if (!info.contains("status: completed")) {
            run.verdict = "FAILED";
            run.note = "migration ended: " + firstLine(migrate.output()) + " / " + value(info, "error");
            return;
        }
        if (s.extra().tls()) {
            run.tls = value(info, "tls");
            if (run.tls.equals("?")) { // a TLS row that ran in clear would compare plain with plain
                run.verdict = "FAILED";
                run.note = "info migrate shows no TLS session";
                return;
            }
        }
        run.completed = true;
        run.verifySrcMs = number(info, "(?m)^verify-ram:\\s+(\\d+) ms");
        if (s.extra() == Extra.VERIFY_RAM) {
            String in = dst.must("info migrate");
            for (int i = 0; i < 20 && !in.contains("status: completed"); i++) {
                Thread.sleep(250); // the destination completes a moment after the source hears it
                in = dst.must("info migrate");
            }
            run.verifyDstMs = number(in, "(?m)^verify-ram:\\s+(\\d+) ms");
        }
        if (s.mode() == Mode.POSTCOPY) {
            postcopyStats(run);
        }
        dst.must("stop " + VM);
        run.checked = oracle(dst, run);
    }

    /**
     * The destination's postcopy figures, once its side is over too (it completes when the last page is
     * placed, before the source hears it, so this normally reads it at once).
     */
    private void postcopyStats(Run run) throws InterruptedException {
        String in = dst.must("info migrate");
        for (int i = 0; i < 20 && !in.contains("status: completed"); i++) {
            Thread.sleep(250);
            in = dst.must("info migrate");
        }
        run.requests = number(in, "(?m)^postcopy requests:\\s+(\\d+)");
        run.blocktimeMs = number(in, "(?m)^postcopy blocktime:\\s+(\\d+) ms");
        run.latencyUs = number(in, "(?m)^fault latency:\\s+median (\\d+) us");
    }

    /**
     * Not done within the give-up time: report why (remaining, expected downtime, dirty rate against
     * bandwidth), cancel, and show that the source runs on and passes its oracle.
     */
    private void giveUp(Scenario s, Run run, Call migrate) throws Exception {
        String info = src.must("info migrate");
        Call cancel = src.call("migrate_cancel " + VM, 30);
        migrate.await(30);
        String after = src.must("info migrate");
        if (after.contains("status: completed")) { // it finished just as we gave up
            finished(s, run, migrate);
            return;
        }
        parseStats(run, info);
        double dirty = number(info, "dirty pages rate:\\s+(\\d+)") * 4096;
        double bandwidth = number(info, "throughput:\\s+([\\d.]+) mbps") * 1e6 / 8;
        run.note = String.format(Locale.ROOT,
                "not converged after %d s: %.0f passes, remaining %s, expected downtime %s ms (limit %d), "
                        + "guest dirties %s/s against a bandwidth of %s/s; migrate_cancel: %s",
                s.giveUpSeconds(), run.passes, value(info, "remaining ram"), value(info, "expected downtime"),
                LIMIT_MS, mib(dirty), mib(bandwidth), cancel.exit() == 0 ? "ok" : firstLine(cancel.output()));
        run.totalMs = Double.NaN; // not a completed migration's time
        String status = firstLine(src.must("info status")).replace("VM status: ", "");
        double rate = cpus(src.must("info cpus")).stream().mapToDouble(c -> c[1]).sum();
        // running, and a guest that writes memory still writes it (idle and finished fill guests halt)
        boolean running = status.startsWith("running") && (rate > 0 || !s.workload().startsWith("sweep"));
        src.must("stop " + VM);
        boolean ok = oracle(src, run);
        run.cancelledIntact = running && ok && !after.contains("status: completed");
        run.checked = ok;
        run.verdict = run.cancelledIntact ? "cancelled, source ok" : "cancel: SOURCE NOT OK";
        run.note += String.format(Locale.ROOT, "; then the source was %s with its vCPUs at %.0f pages/s, "
                + "vm_check on the source: %s", status, rate, run.verdict);
    }

    private static boolean oracle(Host host, Run run) {
        Call check = host.call("vm_check " + VM, 120);
        String out = check.output();
        Matcher bad = Pattern.compile("bad pages:\\s+(\\d+)").matcher(out);
        boolean ok = check.exit() == 0 && bad.find() && bad.group(1).equals("0");
        run.verdict = ok ? "ok" : "BAD: " + (bad.find(0) ? bad.group(1) + " bad pages" : firstLine(out));
        return ok;
    }

    /**
     * Where the destination listens: tcp port 0, a unix socket, or for exec a FIFO that {@code cat}
     * reads on the destination and {@code cat >} writes on the source (quoted: Gogo splits on spaces).
     */
    private String listenUri(Scenario s, String name) throws Exception {
        return switch (s.transport()) {
            case "tcp", "rdma" -> s.transport() + ":" + (s.shaped() ? linkDstIp : "127.0.0.1") + ":0";
            case "unix" -> "unix:" + work.resolve(name + ".sock");
            default -> {
                Path fifo = work.resolve(name + ".fifo");
                if (new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor() != 0) {
                    throw new IllegalStateException("mkfifo " + fifo + " failed");
                }
                yield "'exec:cat " + fifo + "'";
            }
        };
    }

    /** The source's URI: the listener's, or for exec the writing end of the FIFO. */
    private static String connectUri(Scenario s, String listen, String reported) {
        return s.transport().equals("exec") ? listen.replace("'exec:cat ", "'exec:cat > ") : reported;
    }

    /** A raw stream of the same bytes, same processes, same transport (for exec: the same two cats and FIFO): {mbps, ms}. */
    private double[] raw(Scenario s, String n) throws Exception {
        if (s.transport().equals("rdma")) { // the channel under rdma: a copy into shared memory
            String copied = src.must("bench:raw_shm " + shm("raw-" + n) + " " + s.memory());
            return new double[] {number(copied, "= ([\\d.]+) mbps"), number(copied, "in ([\\d.]+) ms")};
        }
        String asked = listenUri(s, "raw-" + n);
        String uri = connectUri(s, asked, match(dst.must("bench:raw_listen " + asked + " " + s.memory()),
                "listening on (\\S+)"));
        Call send = src.call("bench:raw_send " + uri + " " + s.memory(), 120);
        String received = dst.must("bench:raw_wait " + (send.exit() == 0 ? 120 : 1));
        if (send.exit() != 0) {
            throw new IllegalStateException("raw_send: " + firstLine(send.output()));
        }
        return new double[] {number(received, "= ([\\d.]+) mbps"), number(received, "in ([\\d.]+) ms")};
    }

    /** A file on tmpfs for shared guest RAM, unique to this harness. */
    private Path shm(String name) {
        Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : work;
        return dir.resolve(work.getFileName() + "-" + name + ".ram");
    }

    /**
     * fill: until every vCPU wrote its part; sweep: until every vCPU runs, plus a second, and for the
     * busy guest until every vCPU swept its part once (its RAM touched, its rate steady); idle: nothing.
     */
    private void awaitWorkload(Scenario s, long bytes) throws Exception {
        if (s.workload().equals("idle")) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        long perVcpu = bytes / 4096 / 2;
        long sweptPerVcpu = sweptOnce(s);
        while (System.nanoTime() < deadline) {
            List<double[]> cpus = cpus(src.must("info cpus"));
            boolean done = s.workload().startsWith("fill")
                    ? cpus.stream().allMatch(c -> c[0] >= perVcpu)
                    : cpus.stream().allMatch(c -> c[1] > 0 && (!s.busy() || c[0] >= perVcpu) && c[0] >= sweptPerVcpu);
            if (done && !cpus.isEmpty()) {
                if (!s.workload().startsWith("fill")) {
                    Thread.sleep(1000);
                }
                return;
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the " + s.workload() + " workload did not get going within 180 s");
    }

    /**
     * The multifd rows' rate-limited sweep: page writes per vCPU (2) until its range was swept once, so
     * the whole working set is dirty when the migration starts (13 s at 39 MiB/s); 0 for the others.
     */
    static long sweptOnce(Scenario s) {
        if (!s.multifdRow() || !s.workload().startsWith("sweep:")) {
            return 0;
        }
        String range = s.workload().substring("sweep:".length()).split(",")[0];
        return size(range) / 4096 / 2;
    }

    /** {@code info cpus} rows as {progress, rate}. */
    static List<double[]> cpus(String table) {
        List<double[]> rows = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s*\\d+\\s+\\S+\\s+\\d+\\s+\\S+\\s+(\\d+)\\s+([\\d.]+)").matcher(table);
        while (m.find()) {
            rows.add(new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))});
        }
        return rows;
    }

    static void parseStats(Run run, String info) {
        run.totalMs = number(info, "(?m)^total time:\\s+(\\d+) ms");
        run.downtimeMs = number(info, "(?m)^downtime:\\s+(\\d+) ms");
        run.observedMs = number(info, "(?m)^observed downtime:\\s+(\\d+) ms");
        run.mbps = number(info, "(?m)^throughput:\\s+([\\d.]+) mbps");
        run.passes = number(info, "(?m)^dirty sync count:\\s+(\\d+)");
        run.ratio = number(info, "(?m)^compression:.*ratio ([\\d.]+)");
    }

    // ---- output -------------------------------------------------------------------------------

    private String progress(Run r) {
        if (r.completed) {
            return String.format(Locale.ROOT, "total %.0f ms, downtime %.0f ms (observed %.0f), %s/s%s, %.0f passes, %s",
                    r.totalMs, r.downtimeMs, r.observedMs, mib(r.mbps * 1e6 / 8),
                    Double.isNaN(r.rawMbps) ? "" : String.format(Locale.ROOT, " (raw %s/s)", mib(r.rawMbps * 1e6 / 8)),
                    r.passes, r.verdict) + busy(r);
        }
        return r.verdict + (r.note != null ? " (" + r.note + ")" : "");
    }

    /** The busy guest's figures of one run, those it has. */
    private static String busy(Run r) {
        StringBuilder b = new StringBuilder();
        if (!Double.isNaN(r.throttle) && Double.isNaN(r.requests)) {
            b.append(String.format(Locale.ROOT, "; final throttle %.0f %%", r.throttle));
        }
        if (!Double.isNaN(r.requests)) {
            b.append(String.format(Locale.ROOT, "; %.2f x the raw pass (%.0f ms); postcopy-active %.0f ms, %.0f pages"
                    + " requested, blocked %.0f ms, fault latency median %.0f us; guest %.2f M/s before, %.2f M/s in"
                    + " postcopy", r.totalMs / r.rawMs, r.rawMs, r.postcopyMs, r.requests, r.blocktimeMs, r.latencyUs,
                    r.rateBefore / 1e6, r.rateDuring / 1e6));
        }
        return b.toString();
    }

    private void printTable() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"scenario", "runs", "total ms", "downtime ms", "observed ms", "MiB/s", "vs raw",
            "passes", "within limit", "verdict"});
        for (var e : results.entrySet()) {
            Scenario s = e.getKey();
            if (s.multifdRow()) {
                continue; // their own table (MultifdTables)
            }
            List<Run> all = e.getValue();
            List<Run> done = all.stream().filter(r -> r.completed).toList();
            long within = all.stream().filter(Run::withinLimit).count();
            rows.add(new String[] {
                s.label(), String.valueOf(all.size()), stat(done, r -> r.totalMs), stat(done, r -> r.downtimeMs),
                stat(done, r -> r.observedMs), stat(done, r -> r.mbps * 1e6 / 8 / (1 << 20)),
                s.raw() ? stat2(done, r -> r.mbps / r.rawMbps) : "", stat(done, r -> r.passes),
                within + " of " + all.size(), verdicts(all)});
            if (s.raw()) {
                List<Run> raws = all.stream().filter(r -> !Double.isNaN(r.rawMbps)).toList();
                String label = s.transport().equals("rdma") ? "  raw shared-memory copy" : "  raw stream " + s.transport();
                rows.add(new String[] {label, String.valueOf(raws.size() * 2),
                    stat(raws, r -> r.rawMs), "", "", stat(raws, r -> r.rawMbps * 1e6 / 8 / (1 << 20)), "1.00",
                    "", "", raws.size() * 2 + " checked"});
            }
        }
        if (rows.size() == 1) { // only multifd rows ran
            printBusyTable();
            return;
        }
        printRows(rows);
        System.out.println("(median with min..max over the completed runs; MiB/s is the migration's throughput as"
                + " QEMU counts it, bytes sent / (total - setup time); raw: the mean of a stream just before and one"
                + " just after the migration, each timed by the receiver from its first byte to its last; within limit:"
                + " runs whose downtime <= " + LIMIT_MS + " ms)");
        printBusyTable();
    }

    /**
     * The guest precopy cannot finish (the full-speed sweep): postcopy against one full pass of its RAM
     * on the same link (the raw stream), and precopy with auto-converge beside it.
     */
    private void printBusyTable() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"busy guest", "runs", "total ms", "x raw pass", "downtime ms", "observed ms",
            "postcopy ms", "requested", "blocked ms", "fault us", "guest M/s before", "in postcopy", "%",
            "throttle %", "verdict"});
        for (var e : results.entrySet()) {
            Scenario s = e.getKey();
            if (!s.busy()) {
                continue;
            }
            List<Run> all = e.getValue();
            List<Run> done = all.stream().filter(r -> r.completed).toList();
            boolean pc = s.mode() == Mode.POSTCOPY;
            rows.add(new String[] {
                s.label(), String.valueOf(all.size()), stat(done, r -> r.totalMs),
                pc ? stat2(done, r -> r.totalMs / r.rawMs) : "", stat(done, r -> r.downtimeMs),
                stat(done, r -> r.observedMs), pc ? stat(done, r -> r.postcopyMs) : "",
                pc ? stat(done, r -> r.requests) : "", pc ? stat(done, r -> r.blocktimeMs) : "",
                pc ? stat(done, r -> r.latencyUs) : "", pc ? stat2(done, r -> r.rateBefore / 1e6) : "",
                pc ? stat2(done, r -> r.rateDuring / 1e6) : "",
                pc ? stat(done, r -> 100 * r.rateDuring / r.rateBefore, "%.1f") : "",
                pc ? "" : stat(all, r -> r.throttle), verdicts(all)});
        }
        if (rows.size() == 1) {
            return;
        }
        System.out.println();
        printRows(rows);
        System.out.println("(x raw pass: total time over the raw stream of the whole RAM on the same link, same run;"
                + " postcopy ms: the destination's postcopy-active phase; requested, blocked: the destination's"
                + " postcopy requests and postcopy blocktime; fault us: its median fault latency; guest M/s: the"
                + " guest's progress (millions of page writes, all vCPUs) per second on the source before the"
                + " migration and on the destination over its whole postcopy-active phase, %: the one over the"
                + " other; throttle: auto-converge's last, every run)");
    }

    static void printRows(List<String[]> rows) {
        int[] width = new int[rows.getFirst().length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(String.format("%-" + width[i] + "s", row[i])).append(i < row.length - 1 ? "  " : "");
            }
            System.out.println(line.toString().stripTrailing());
        }
    }

    private void printNotes() {
        List<String> notes = new ArrayList<>();
        for (var e : results.entrySet()) {
            List<Run> all = e.getValue();
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).note != null) {
                    notes.add("  " + e.getKey().label() + " run " + (i + 1) + ": " + all.get(i).note);
                }
            }
        }
        if (!notes.isEmpty()) {
            System.out.println("notes:");
            notes.forEach(System.out::println);
        }
    }

    private void printTargets() {
        System.out.println("targets:");
        for (var e : results.entrySet()) {
            Scenario s = e.getKey();
            List<Run> all = e.getValue();
            List<Run> done = all.stream().filter(r -> r.completed).toList();
            if (s.raw() && s.transport().equals("rdma")) {
                double ratio = median(done, r -> r.mbps / r.rawMbps);
                double gibps = median(done, r -> r.mbps * 1e6 / 8) / (1L << 30);
                target(gibps >= 5 && done.size() == all.size(), String.format(Locale.ROOT,
                        "%s: throughput >= 5 GiB/s (median of %d): %.2f GiB/s, %.2f x the raw shared-memory copy"
                                + " (%s/s; end to end, including setup: %.2f)%s", s.label(), done.size(), gibps, ratio,
                        mib(median(done, r -> r.rawMbps * 1e6 / 8)),
                        median(done, r -> r.bytes * 8 / r.totalMs / 1000 / r.rawMbps),
                        done.size() < all.size() ? "; " + (all.size() - done.size()) + " run(s) did not complete" : ""));
            } else if (s.raw() && s.mode() == Mode.PRECOPY) {
                double ratio = median(done, r -> r.mbps / r.rawMbps);
                double e2e = median(done, r -> r.bytes * 8 / r.totalMs / 1000 / r.rawMbps);
                double wanted = s.transport().equals("exec") ? 0.8 : 0.85; // exec: the target against a raw pipe
                target(ratio >= wanted && done.size() == all.size(), String.format(Locale.ROOT,
                        "%s: throughput >= %.2f x the raw stream (median of %d): %.2f, %s/s against %s/s"
                                + " (end to end, including setup: %.2f)%s", s.label(), wanted, done.size(), ratio,
                        mib(median(done, r -> r.mbps * 1e6 / 8)), mib(median(done, r -> r.rawMbps * 1e6 / 8)), e2e,
                        done.size() < all.size() ? "; " + (all.size() - done.size()) + " run(s) did not complete" : ""));
            }
            if (s.id().equals("idle-4g")) {
                long under = done.stream().filter(r -> r.totalMs < 1000).count();
                target(median(done, r -> r.totalMs) < 1000 && done.size() == all.size(), String.format(Locale.ROOT,
                        "%s: total time < 1 s: %s ms, %d of %d runs under 1 s%s", s.label(),
                        stat(done, r -> r.totalMs), under, all.size(), done.size() < all.size()
                                ? "; " + (all.size() - done.size()) + " did not complete (notes)" : ""));
            }
            if (s.downtimeTarget()) {
                long within = all.stream().filter(Run::withinLimit).count();
                long needed = (long) Math.ceil(all.size() * 19 / 20.0);
                target(within >= needed, String.format(Locale.ROOT,
                        "%s: downtime <= %d ms in >= 19 of 20 runs: %d of %d (downtime %s ms; guest-observed %s ms)%s",
                        s.label(), LIMIT_MS, within, all.size(), stat(done, r -> r.downtimeMs),
                        stat(done, r -> r.observedMs), all.size() < 20
                                ? " [" + all.size() + (all.size() == 1 ? " run" : " runs") + "; --runs 20 for the target]"
                                : ""));
            }
            if (s.mode() == Mode.POSTCOPY) {
                postcopyTargets(s, all, done);
            }
            if (s.mode() == Mode.AUTO_CONVERGE) {
                System.out.printf(Locale.ROOT, "  ----  %s: final throttle %s %% (every run), downtime %s ms,"
                        + " observed %s ms (completed runs)%n", s.label(), stat(all, r -> r.throttle),
                        stat(done, r -> r.downtimeMs), stat(done, r -> r.observedMs));
            }
            if (s.id().equals("sweep-512m") || s.mode() == Mode.AUTO_CONVERGE) {
                long converged = all.stream().filter(r -> r.withinLimit() && r.checked).count();
                long over = done.stream().filter(r -> !r.withinLimit()).count();
                long cancelled = all.stream().filter(r -> r.cancelledIntact).count();
                target(converged + cancelled == all.size(), String.format(Locale.ROOT,
                        "%s: converges within the limit, or says why not and is cancelled with the source intact: "
                                + "of %d runs %d converged within the limit, %d converged OVER it, %d did not converge,"
                                + " said why and were cancelled with the source intact%s",
                        s.label(), all.size(), converged, over, cancelled, done.isEmpty() ? ""
                                : String.format(Locale.ROOT, " (completed: downtime %s ms, observed %s ms)",
                                        stat(done, r -> r.downtimeMs), stat(done, r -> r.observedMs))));
            }
        }
    }

    /**
     * The postcopy targets: total time below twice one full pass of the RAM on the same link
     * (the raw stream), the median fault latency below 1 ms, both downtimes within the limit, the oracle
     * clean; every run.
     */
    private static void postcopyTargets(Scenario s, List<Run> all, List<Run> done) {
        String missing = done.size() < all.size() ? "; " + (all.size() - done.size()) + " run(s) did not complete" : "";
        long under = done.stream().filter(r -> r.totalMs < 2 * r.rawMs).count();
        target(median(done, r -> r.totalMs / r.rawMs) < 2 && done.size() == all.size(), String.format(Locale.ROOT,
                "%s: total time < 2 x one full RAM pass on the same link (median of %d): %.2f x (total %s ms, raw"
                        + " pass %s ms; postcopy-active %s ms of it = %.2f x the raw pass), %d of %d runs under%s",
                s.label(), done.size(), median(done, r -> r.totalMs / r.rawMs), stat(done, r -> r.totalMs),
                stat(done, r -> r.rawMs), stat(done, r -> r.postcopyMs), median(done, r -> r.postcopyMs / r.rawMs),
                under, all.size(), missing));
        double latency = median(done, r -> r.latencyUs);
        target(latency < 1000 && done.size() == all.size(), String.format(Locale.ROOT,
                "%s: median fault latency < 1 ms (median of the runs' medians): %.0f us (%s us)%s", s.label(),
                latency, stat(done, r -> r.latencyUs), missing));
        long within = all.stream().filter(r -> r.withinLimit() && r.observedMs <= LIMIT_MS).count();
        target(within == all.size(), String.format(Locale.ROOT,
                "%s: source and observed downtime <= %d ms in every run: %d of %d (downtime %s ms; observed %s ms)",
                s.label(), LIMIT_MS, within, all.size(), stat(done, r -> r.downtimeMs), stat(done, r -> r.observedMs)));
        long clean = all.stream().filter(r -> r.completed && r.checked).count();
        target(clean == all.size(), String.format(Locale.ROOT, "%s: oracle clean on the destination in every run:"
                + " %d of %d (%s)", s.label(), clean, all.size(), verdicts(all)));
        System.out.printf(Locale.ROOT, "  ----  %s: %s pages requested, guest blocked %s ms; the guest's progress in"
                        + " postcopy %s %% of its rate before the migration (%s M/s against %s M/s)%n", s.label(),
                stat(done, r -> r.requests), stat(done, r -> r.blocktimeMs),
                stat(done, r -> 100 * r.rateDuring / r.rateBefore, "%.1f"), stat2(done, r -> r.rateDuring / 1e6),
                stat2(done, r -> r.rateBefore / 1e6));
    }

    private static void target(boolean pass, String text) {
        System.out.println("  " + (pass ? "PASS" : "MISS") + "  " + text);
    }

    static String verdicts(List<Run> all) {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (Run r : all) {
            counts.merge(r.verdict, 1L, Long::sum);
        }
        List<String> parts = new ArrayList<>();
        counts.forEach((v, c) -> parts.add(v + " " + c + "/" + all.size()));
        return String.join(", ", parts);
    }

    static String stat(List<Run> runs, ToDoubleFunction<Run> f) {
        return stat(runs, f, "%.0f");
    }

    static String stat2(List<Run> runs, ToDoubleFunction<Run> f) {
        return stat(runs, f, "%.2f");
    }

    static String stat(List<Run> runs, ToDoubleFunction<Run> f, String format) {
        double[] v = runs.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (v.length == 0) {
            return "-";
        }
        String median = String.format(Locale.ROOT, format, median(v));
        return v.length == 1 ? median : median + " (" + String.format(Locale.ROOT, format, v[0]) + ".."
                + String.format(Locale.ROOT, format, v[v.length - 1]) + ")";
    }

    static double median(List<Run> runs, ToDoubleFunction<Run> f) {
        return median(runs.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).sorted().toArray());
    }

    static double median(double[] sorted) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int m = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    static String mib(double bytesPerSecond) {
        return bytesPerSecond >= 1 << 30
                ? String.format(Locale.ROOT, "%.2f GiB", bytesPerSecond / (1 << 30))
                : String.format(Locale.ROOT, "%.0f MiB", bytesPerSecond / (1 << 20));
    }

    // ---- parsing helpers ----------------------------------------------------------------------

    static String match(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("expected /" + regex + "/ in: " + firstLine(text));
        }
        return m.group(1);
    }

    static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /** The value of an {@code info migrate} line, e.g. {@code 312 MiB} for "remaining ram". */
    static String value(String info, String label) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(label) + ":\\s+(.*)$").matcher(info);
        return m.find() ? m.group(1).replace(" ms", "").strip() : "?";
    }

    static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        return text.strip().lines().filter(l -> !l.isBlank() && !l.startsWith("pass ")).findFirst().orElse("");
    }

    static long size(String text) {
        long unit = switch (text.charAt(text.length() - 1)) {
            case 'G' -> 1L << 30;
            case 'M' -> 1L << 20;
            default -> throw new IllegalArgumentException(text);
        };
        return Long.parseLong(text.substring(0, text.length() - 1)) * unit;
    }

    /** The one-minute load average, or NaN. */
    static double load1() {
        try {
            return Double.parseDouble(loadAverage().split(" ")[0]);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    // ---- hosts and processes ------------------------------------------------------------------

    /**
     * The shaped link for the {@code mf1g-} rows: {@code benchmarks/netns link} makes two network
     * namespaces joined by a veth pair shaped to {@link #linkRate} (tbf) and holds them while it runs;
     * a host in each. Where the test bed cannot run (not root, no tc), the rows are dropped with the reason.
     */
    private void startLink() throws Exception {
        String why = netns == null ? "no --netns given" : null;
        if (why == null) {
            Process check = launch(new ProcessBuilder(netns.toString(), "check").redirectErrorStream(true));
            String out = new String(check.getInputStream().readAllBytes()).strip();
            why = check.waitFor() == 0 ? null : out;
            processes.remove(check);
        }
        if (why != null) {
            System.out.println("the " + linkRate + " rows are skipped: " + why);
            chosen.removeIf(Scenario::shaped);
            return;
        }
        Path out = work.resolve("link.out");
        launch(new ProcessBuilder(netns.toString(), "link", "--rate", linkRate, "--", "sh", "-c",
                "echo \"namespaces $GODWIT_NETNS_SRC $GODWIT_NETNS_DST $GODWIT_NETNS_DST_IP\"; exec sleep 86400")
                .redirectErrorStream(true).redirectOutput(out.toFile()));
        Matcher m = null;
        for (int i = 0; i < 300 && (m == null || !m.find()); i++) {
            Thread.sleep(100);
            m = Pattern.compile("namespaces (\\S+) (\\S+) (\\S+)").matcher(Files.readString(out));
        }
        if (!m.find(0)) {
            throw new IllegalStateException("benchmarks/netns link did not make the link: " + Files.readString(out));
        }
        linkShape = firstLine(Files.readString(out)).replaceFirst("^link: ", "");
        linkDstIp = m.group(3);
        linkSrc = new Host("source-" + linkRate, List.of("ip", "netns", "exec", m.group(1)));
        linkDst = new Host("destination-" + linkRate, List.of("ip", "netns", "exec", m.group(2)));
        linkSrc.awaitReady();
        linkDst.awaitReady();
        System.out.println("link: " + linkShape);
    }

    /** A private copy of the host home with the probe in bundle/: never touches the user's distribution. */
    private void copyHome() throws IOException {
        try (Stream<Path> files = Files.walk(dist)) {
            for (Path from : files.toList()) {
                Path rel = dist.relativize(from);
                String top = rel.getNameCount() > 0 ? rel.getName(0).toString() : "";
                if ((top.equals("log") || top.equals("run")) && rel.getNameCount() > 1) {
                    continue; // another process's logs and private directories
                }
                Path to = home.resolve(rel.toString());
                if (Files.isDirectory(from)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        Files.copy(probe, home.resolve("bundle").resolve("godwit-bench-probe.jar"));
    }

    /** The outcome of a monitor client. */
    final class Call {
        private final Process process;
        private final Path out;
        private int exit = -1;

        Call(String sock, String command) throws IOException {
            out = Files.createTempFile(work, "call-", ".out");
            ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/godwit").toString(), "--connect", "unix:" + sock,
                    "-c", command).redirectErrorStream(true).redirectOutput(out.toFile());
            process = launch(pb);
        }

        /** Waits for the client; false when it still runs after {@code seconds}. */
        boolean await(int seconds) throws InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                return false;
            }
            exit = process.exitValue();
            processes.remove(process);
            return true;
        }

        int exit() {
            return exit;
        }

        String output() {
            try {
                return Files.readString(out);
            } catch (IOException e) {
                return "";
            }
        }
    }

    /** A host daemon of the temporary home, with its monitor socket. */
    final class Host {
        final String name;
        final Path sock;
        final Path ready;
        final Process process;

        /** {@code prefix}: what the host runs under, e.g. {@code ip netns exec NS} (which execs it: same process). */
        Host(String name, List<String> prefix) throws IOException {
            this.name = name;
            this.sock = work.resolve(name + ".sock");
            this.ready = work.resolve(name + ".ready");
            List<String> command = new ArrayList<>(prefix);
            command.addAll(List.of(home.resolve("bin/godwit").toString(), "--daemon", "--monitor",
                    "unix:" + sock, "--ready-file", ready.toString(), "--log", work.resolve(name + ".log").toString()));
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(work.resolve(name + ".out").toFile());
            process = launch(pb);
        }

        /** The host process's CPU time so far (all its threads, the guest's vCPUs too), ms; NaN if unknown. */
        double cpuMs() {
            return process.toHandle().info().totalCpuDuration().map(d -> d.toNanos() / 1e6).orElse(Double.NaN);
        }

        void awaitReady() throws Exception {
            for (int i = 0; i < 600 && !Files.exists(ready); i++) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the " + name + " host did not start: "
                            + Files.readString(work.resolve(name + ".out")));
                }
                Thread.sleep(100);
            }
            if (!Files.exists(ready)) {
                throw new IllegalStateException("the " + name + " host did not start within 60 s");
            }
        }

        Call start(String command) throws IOException {
            return new Call(sock.toString(), command);
        }

        /** Runs a command; a client still running after {@code seconds} is stopped. */
        Call call(String command, int seconds) {
            try {
                Call c = start(command);
                if (!c.await(seconds)) {
                    c.process.destroy();
                    c.await(10);
                }
                return c;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted");
            }
        }

        /** Runs a command that must succeed; returns its output. */
        String must(String command) {
            Call c = call(command, 300);
            if (c.exit() != 0) {
                throw new IllegalStateException(name + ": " + command + ": " + firstLine(c.output()));
            }
            return c.output();
        }
    }

    /** Starts a process with this JVM's java, unless the cleanup has begun (then it never would be stopped). */
    synchronized Process launch(ProcessBuilder pb) throws IOException {
        if (cleaned) {
            throw new IOException("stopping");
        }
        pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    /** Stops every process this benchmark started (by its handle), then deletes the temporary home. */
    synchronized void cleanup() {
        if (cleaned) {
            return;
        }
        cleaned = true;
        for (Process p : processes) {
            p.destroy(); // SIGTERM: a host stops its VMs and its framework
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
        if (keepLogs != null) {
            try {
                Files.createDirectories(keepLogs);
                for (String log : List.of("source.log", "destination.log")) {
                    if (Files.exists(work.resolve(log))) {
                        Files.copy(work.resolve(log), keepLogs.resolve(log), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            } catch (IOException e) {
                System.err.println("migration benchmark: could not keep the logs: " + e.getMessage());
            }
        }
        try (Stream<Path> files = Files.walk(work)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("migration benchmark: could not delete " + work + ": " + e.getMessage());
        }
    }
}
