package io.godwit.benchmarks;

import io.godwit.benchmarks.MigrationBench.Extra;
import io.godwit.benchmarks.MigrationBench.Run;
import io.godwit.benchmarks.MigrationBench.Scenario;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The tables of the paired scenarios, each the same migration with and without one thing, run one
 * after the other in every round: verify-ram off against on (issue 18), and query-migrate polled over
 * QMP every 100 ms against not (issue 13), and TLS against plain (issue 15).
 */
final class ExtraTables {

    private ExtraTables() {}

    static void print(Map<Scenario, List<Run>> results, boolean quick) {
        List<Scenario[]> verify = pairs(results, Extra.VERIFY_RAM, "-on", "-off");
        List<Scenario[]> poll = pairs(results, Extra.QMP_POLL, "-poll", "-quiet");
        List<Scenario[]> tls = new ArrayList<>(pairs(results, Extra.TLS, "-tls-tcp", "-plain-tcp"));
        tls.addAll(pairs(results, Extra.TLS_MULTIFD, "-tls-multifd", "-plain-multifd"));
        if (!verify.isEmpty()) {
            verify(results, verify, quick);
        }
        if (!poll.isEmpty()) {
            poll(results, poll, quick);
        }
        if (!tls.isEmpty()) {
            tls(results, tls, quick);
        }
    }

    /** Each scenario with {@code extra} beside its twin (its id with {@code suffix} for {@code twin}), when both ran. */
    private static List<Scenario[]> pairs(Map<Scenario, List<Run>> results, Extra extra, String suffix, String twin) {
        List<Scenario[]> pairs = new ArrayList<>();
        for (Scenario with : results.keySet()) {
            if (with.extra() != extra || !with.id().endsWith(suffix)) {
                continue;
            }
            String twinId = with.id().substring(0, with.id().length() - suffix.length()) + twin;
            results.keySet().stream().filter(s -> s.id().equals(twinId)).findFirst()
                    .ifPresent(without -> pairs.add(new Scenario[] {without, with}));
        }
        return pairs;
    }

    private static void verify(Map<Scenario, List<Run>> results, List<Scenario[]> pairs, boolean quick) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"verify-ram", "runs", "total ms", "downtime ms", "observed ms", "within limit",
            "verify ms source", "verify ms dest", "load", "verdict"});
        for (Scenario[] p : pairs) {
            for (Scenario s : p) {
                List<Run> all = results.get(s);
                List<Run> done = done(all);
                rows.add(new String[] {s.label(), String.valueOf(all.size()), MigrationBench.stat(done, r -> r.totalMs),
                    MigrationBench.stat(done, r -> r.downtimeMs), MigrationBench.stat(done, r -> r.observedMs),
                    all.stream().filter(Run::withinLimit).count() + " of " + all.size(),
                    MigrationBench.stat(done, r -> r.verifySrcMs), MigrationBench.stat(done, r -> r.verifyDstMs),
                    MigrationBench.stat(all, r -> r.load, "%.1f"), MigrationBench.verdicts(all)});
            }
        }
        System.out.println();
        printRows(rows);
        System.out.println("(verify-ram on the source, alternating with the same migration without it in every round;"
                + " verify ms: the time each side spent on its page digests, as info migrate shows it; load: the"
                + " one-minute load average after each run)");
        if (quick) {
            return;
        }
        System.out.println("targets (issue 18):");
        for (Scenario[] p : pairs) {
            List<Run> off = results.get(p[0]);
            List<Run> on = results.get(p[1]);
            long within = on.stream().filter(Run::withinLimit).count();
            long needed = (long) Math.ceil(on.size() * 19 / 20.0);
            String few = on.size() < 20 ? " [" + on.size() + " runs; --runs 20 for the target]" : "";
            target(within >= needed && on.size() >= 20, String.format(Locale.ROOT,
                    "%s: downtime <= %d ms in >= 19 of 20 runs: %d of %d (without verify-ram: %d of %d)%s",
                    p[1].label(), MigrationBench.LIMIT_MS, within, on.size(),
                    off.stream().filter(Run::withinLimit).count(), off.size(), few));
            double added = median(done(on), r -> r.downtimeMs) - median(done(off), r -> r.downtimeMs);
            double[] paired = paired(off, on, r -> r.downtimeMs);
            target(added < 0.1 * MigrationBench.LIMIT_MS && on.size() >= 20, String.format(Locale.ROOT,
                    "%s: added downtime < 10 %% of the limit (%d ms): median %s ms against %s ms = %+.0f ms ="
                            + " %+.1f %% of the limit; per round (on - off) %s ms; verify time in it: source %s ms,"
                            + " destination %s ms%s",
                    p[1].label(), MigrationBench.LIMIT_MS / 10, MigrationBench.stat(done(on), r -> r.downtimeMs),
                    MigrationBench.stat(done(off), r -> r.downtimeMs), added, 100 * added / MigrationBench.LIMIT_MS,
                    spread(paired, "%+.0f"), MigrationBench.stat(done(on), r -> r.verifySrcMs),
                    MigrationBench.stat(done(on), r -> r.verifyDstMs), few));
            double overhead = median(done(on), r -> r.totalMs) / median(done(off), r -> r.totalMs) - 1;
            System.out.printf(Locale.ROOT, "  ----  %s: total-time overhead %+.1f %% (median %s ms against %s ms;"
                            + " per round (on - off) %s ms)%n", p[1].label(), 100 * overhead,
                    MigrationBench.stat(done(on), r -> r.totalMs), MigrationBench.stat(done(off), r -> r.totalMs),
                    spread(paired(off, on, r -> r.totalMs), "%+.0f"));
        }
    }

    private static void poll(Map<Scenario, List<Run>> results, List<Scenario[]> pairs, boolean quick) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"QMP", "runs", "total ms", "downtime ms", "MiB/s", "polls per run", "poll ms",
            "slowest poll ms", "load", "verdict"});
        for (Scenario[] p : pairs) {
            for (Scenario s : p) {
                List<Run> all = results.get(s);
                List<Run> done = done(all);
                boolean polled = s.extra() == Extra.QMP_POLL;
                double[] latencies = all.stream().flatMap(r -> r.pollMs.stream()).mapToDouble(d -> d).sorted().toArray();
                rows.add(new String[] {s.label(), String.valueOf(all.size()), MigrationBench.stat(done, r -> r.totalMs),
                    MigrationBench.stat(done, r -> r.downtimeMs),
                    MigrationBench.stat(done, r -> r.mbps * 1e6 / 8 / (1 << 20)),
                    polled ? MigrationBench.stat(all, r -> r.pollMs.size()) : "",
                    polled ? spread(latencies, "%.1f") : "",
                    polled ? MigrationBench.stat(all, r -> r.pollMs.stream().mapToDouble(d -> d).max().orElse(Double.NaN),
                            "%.1f") : "",
                    MigrationBench.stat(all, r -> r.load, "%.1f"), MigrationBench.verdicts(all)});
            }
        }
        System.out.println();
        printRows(rows);
        System.out.println("(QMP polled: a client sends query-migrate every 100 ms from just before migrate until it"
                + " returns; poll ms: every poll's answer time, median (min..max) over all runs; slowest poll: each"
                + " run's slowest, median (min..max); QMP quiet: the same VM with its QMP server, nobody polling)");
        if (quick) {
            return;
        }
        System.out.println("targets (issue 13):");
        for (Scenario[] p : pairs) {
            List<Run> quiet = done(results.get(p[0]));
            List<Run> polled = done(results.get(p[1]));
            double[] a = values(quiet, r -> r.totalMs);
            double[] b = values(polled, r -> r.totalMs);
            double pValue = rankSumP(a, b);
            double shift = hodgesLehmann(a, b);
            double quietMedian = median(quiet, r -> r.totalMs);
            boolean enough = a.length >= 10 && b.length >= 10;
            // Not a PASS: a test that finds no difference does not show there is none, least of all when
            // the quiet runs alone spread wide; the spread is printed beside it for that reason.
            System.out.printf(Locale.ROOT, "  %s  %s: polling every 100 ms against none: total %s ms polled against"
                            + " %s ms quiet, shift %+.0f ms (%+.1f %%, Hodges-Lehmann), rank-sum p = %.2f over %d + %d"
                            + " runs%s%n", enough && pValue < 0.05 ? "MISS" : "----",
                    p[1].label(), MigrationBench.stat(polled, r -> r.totalMs), MigrationBench.stat(quiet, r -> r.totalMs),
                    shift, 100 * shift / quietMedian, pValue, b.length, a.length,
                    !enough ? " [fewer than 10 runs each: not conclusive]" : pValue < 0.05 ? ": polling is slower"
                            : ": no difference shown, which is no proof of none within the quiet runs' own spread");
            List<Run> all = results.get(p[1]);
            long answered = all.stream().mapToLong(r -> r.pollMs.size()).sum();
            double slowest = all.stream().flatMap(r -> r.pollMs.stream()).mapToDouble(d -> d).max().orElse(Double.NaN);
            long failed = all.stream().filter(r -> r.note != null && r.note.startsWith("QMP poll failed")).count();
            target(failed == 0 && slowest < QmpPoller.PERIOD_MS, String.format(Locale.ROOT,
                    "%s: every poll answered within the period (%d ms): %d polls, slowest %.1f ms, %d run(s) where"
                            + " polling failed", p[1].label(), QmpPoller.PERIOD_MS, answered, slowest, failed));
        }
    }

    /** Issue 15: TLS against plain, throughput ({@code info migrate}'s) median over median and round by round. */
    private static void tls(Map<Scenario, List<Run>> results, List<Scenario[]> pairs, boolean quick) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"TLS", "runs", "total ms", "downtime ms", "MiB/s", "host CPU s", "cores busy", "session", "load",
            "verdict"});
        for (Scenario[] p : pairs) {
            for (Scenario s : p) {
                List<Run> all = results.get(s);
                List<Run> done = done(all);
                rows.add(new String[] {s.label(), String.valueOf(all.size()), MigrationBench.stat(done, r -> r.totalMs),
                    MigrationBench.stat(done, r -> r.downtimeMs),
                    MigrationBench.stat(done, r -> r.mbps * 1e6 / 8 / (1 << 20)),
                    MigrationBench.stat2(done, r -> (r.srcCpuMs + r.dstCpuMs) / 1000),
                    MigrationBench.stat2(done, r -> (r.srcCpuMs + r.dstCpuMs) / r.totalMs),
                    s.extra().tls() ? done.stream().map(r -> r.tls).distinct().reduce((a, b) -> a + "; " + b)
                            .orElse("-") : "clear",
                    MigrationBench.stat(all, r -> r.load, "%.1f"), MigrationBench.verdicts(all)});
            }
        }
        System.out.println();
        printRows(rows);
        System.out.println("(the same static migration with tls-creds on both hosts and without, one after the other"
                + " in every round; MiB/s: info migrate's throughput; host CPU s: both host processes' CPU time from migrate to"
                + " its end, all their threads; cores busy: that over the total time, of the machine's "
                + Runtime.getRuntime().availableProcessors() + "; load: the one-minute load average after each run)");
        if (quick) {
            return;
        }
        System.out.println("targets (issue 15):");
        for (Scenario[] p : pairs) {
            List<Run> plain = done(results.get(p[0]));
            List<Run> tls = done(results.get(p[1]));
            double ratio = median(tls, r -> r.mbps) / median(plain, r -> r.mbps);
            double[] rounds = ratios(results.get(p[0]), results.get(p[1]), r -> r.mbps);
            double[] totals = ratios(results.get(p[1]), results.get(p[0]), r -> r.totalMs);
            boolean enough = rounds.length >= 5;
            String verdict = !enough ? "----" : ratio >= 0.7 ? "PASS" : "MISS";
            System.out.printf(Locale.ROOT, "  %s  %s: throughput >= 0.7 x plain: %.2f (median %s MiB/s against %s);"
                            + " per round %s; total time plain / TLS per round %s%s%n", verdict, p[1].label(), ratio,
                    MigrationBench.stat(tls, r -> r.mbps * 1e6 / 8 / (1 << 20)),
                    MigrationBench.stat(plain, r -> r.mbps * 1e6 / 8 / (1 << 20)), spread(rounds, "%.2f"),
                    spread(totals, "%.2f"), enough ? "" : " [fewer than 5 rounds where both completed: not judged]");
        }
    }

    /** b / a, round by round (the two ran one after the other), where both completed. */
    private static double[] ratios(List<Run> a, List<Run> b, ToDoubleFunction<Run> f) {
        List<Double> d = new ArrayList<>();
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            if (a.get(i).completed && b.get(i).completed) {
                d.add(f.applyAsDouble(b.get(i)) / f.applyAsDouble(a.get(i)));
            }
        }
        return d.stream().mapToDouble(x -> x).filter(x -> !Double.isNaN(x)).sorted().toArray();
    }

    /** On minus off, round by round (the two ran one after the other), where both completed. */
    private static double[] paired(List<Run> off, List<Run> on, ToDoubleFunction<Run> f) {
        List<Double> d = new ArrayList<>();
        for (int i = 0; i < Math.min(off.size(), on.size()); i++) {
            if (off.get(i).completed && on.get(i).completed) {
                d.add(f.applyAsDouble(on.get(i)) - f.applyAsDouble(off.get(i)));
            }
        }
        return d.stream().mapToDouble(x -> x).filter(x -> !Double.isNaN(x)).sorted().toArray();
    }

    /**
     * Wilcoxon-Mann-Whitney rank-sum test, two-sided, normal approximation (ties get their mean rank):
     * the probability of a difference at least this large between two samples of one distribution.
     */
    static double rankSumP(double[] a, double[] b) {
        int n1 = a.length;
        int n2 = b.length;
        if (n1 == 0 || n2 == 0) {
            return Double.NaN;
        }
        double[][] all = new double[n1 + n2][];
        for (int i = 0; i < n1; i++) {
            all[i] = new double[] {a[i], 0};
        }
        for (int i = 0; i < n2; i++) {
            all[n1 + i] = new double[] {b[i], 1};
        }
        Arrays.sort(all, (x, y) -> Double.compare(x[0], y[0]));
        double rankSumA = 0;
        for (int i = 0; i < all.length;) {
            int j = i;
            while (j < all.length && all[j][0] == all[i][0]) {
                j++;
            }
            double rank = (i + 1 + j) / 2.0; // mean of ranks i+1 .. j
            for (int k = i; k < j; k++) {
                if (all[k][1] == 0) {
                    rankSumA += rank;
                }
            }
            i = j;
        }
        double u = rankSumA - n1 * (n1 + 1) / 2.0;
        double mean = n1 * (double) n2 / 2;
        double sd = Math.sqrt(n1 * (double) n2 * (n1 + n2 + 1) / 12);
        double z = Math.abs(u - mean) / sd;
        return Math.min(1, 2 * (1 - phi(z)));
    }

    /** The standard normal distribution function (Abramowitz and Stegun 26.2.17, error < 7.5e-8). */
    static double phi(double z) {
        double t = 1 / (1 + 0.2316419 * Math.abs(z));
        double poly = t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
        double tail = Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI) * poly;
        return z >= 0 ? 1 - tail : tail;
    }

    /** The median of every difference b - a: how far b's values sit above a's. */
    static double hodgesLehmann(double[] a, double[] b) {
        double[] d = new double[a.length * b.length];
        int k = 0;
        for (double x : a) {
            for (double y : b) {
                d[k++] = y - x;
            }
        }
        Arrays.sort(d);
        return MigrationBench.median(d);
    }

    private static List<Run> done(List<Run> all) {
        return all.stream().filter(r -> r.completed).toList();
    }

    private static double[] values(List<Run> runs, ToDoubleFunction<Run> f) {
        return runs.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).sorted().toArray();
    }

    private static double median(List<Run> runs, ToDoubleFunction<Run> f) {
        return MigrationBench.median(runs, f);
    }

    private static String spread(double[] sorted, String format) {
        if (sorted.length == 0) {
            return "-";
        }
        return String.format(Locale.ROOT, format, MigrationBench.median(sorted)) + " ("
                + String.format(Locale.ROOT, format, sorted[0]) + ".."
                + String.format(Locale.ROOT, format, sorted[sorted.length - 1]) + ")";
    }

    private static void target(boolean pass, String text) {
        System.out.println("  " + (pass ? "PASS" : "MISS") + "  " + text);
    }

    private static void printRows(List<String[]> rows) {
        MigrationBench.printRows(rows);
    }
}
