package io.godwit.benchmarks;

import io.godwit.benchmarks.MigrationBench.Multifd;
import io.godwit.benchmarks.MigrationBench.Run;
import io.godwit.benchmarks.MigrationBench.Scenario;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Issue 14's table and targets: each guest over a single stream and the multifd variants (2 and 4
 * channels, zstd, zlib), run one after the other in every round, on loopback and over the shaped
 * link. A target passes only on a difference the runs show (rank-sum p &lt; 0.05 over at least 10
 * runs each); no difference shown is never a pass.
 */
final class MultifdTables {

    /** Runs each side needs before a verdict is more than a report. */
    static final int ENOUGH = 10;

    private MultifdTables() {}

    static void print(Map<Scenario, List<Run>> results, boolean quick, String linkShape) {
        Map<String, Map<Multifd, Scenario>> groups = new LinkedHashMap<>();
        for (Scenario s : results.keySet()) {
            if (s.multifdRow()) { // the group: link and guest, e.g. "mf1g-static"
                String group = s.id().substring(0, s.id().lastIndexOf('-'));
                groups.computeIfAbsent(group, k -> new LinkedHashMap<>()).put(s.multifd(), s);
            }
        }
        if (groups.isEmpty()) {
            return;
        }
        table(results, groups);
        if (linkShape != null) {
            System.out.println("(the 1gbit rows: " + linkShape + ")");
        }
        if (quick) {
            return;
        }
        System.out.println("targets (issue 14):");
        for (var g : groups.entrySet()) {
            boolean shaped = g.getKey().startsWith("mf1g-");
            Scenario single = g.getValue().get(Multifd.SINGLE);
            Scenario plain = g.getValue().get(new Multifd(2, "none"));
            for (Scenario s : g.getValue().values()) {
                Multifd m = s.multifd();
                if (m.channels() > 0 && m.compression().equals("none") && single != null) {
                    faster(results, single, s, 1, !shaped, "never slower than the single stream");
                } else if (!m.compression().equals("none") && plain != null) {
                    faster(results, plain, s, 2, shaped && m.compression().equals("zstd"),
                            "at least 2x faster than without compression");
                    cost(results, plain, s);
                }
            }
        }
    }

    private static void table(Map<Scenario, List<Run>> results, Map<String, Map<Multifd, Scenario>> groups) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"multifd", "runs", "total ms", "downtime ms", "RAM/total MiB/s", "wire MiB/s",
            "ratio", "CPU s source", "CPU s dest", "passes", "load", "verdict"});
        for (Map<Multifd, Scenario> g : groups.values()) {
            for (Scenario s : g.values()) {
                List<Run> all = results.get(s);
                List<Run> done = all.stream().filter(r -> r.completed).toList();
                rows.add(new String[] {s.label(), String.valueOf(all.size()), MigrationBench.stat(done, r -> r.totalMs),
                    MigrationBench.stat(done, r -> r.downtimeMs),
                    MigrationBench.stat(done, r -> r.bytes / (1 << 20) / (r.totalMs / 1000)),
                    MigrationBench.stat(done, r -> r.mbps * 1e6 / 8 / (1 << 20)),
                    MigrationBench.stat2(done, r -> r.ratio), MigrationBench.stat2(done, r -> r.srcCpuMs / 1000),
                    MigrationBench.stat2(done, r -> r.dstCpuMs / 1000), MigrationBench.stat(done, r -> r.passes),
                    MigrationBench.stat(all, r -> r.load, "%.1f"), MigrationBench.verdicts(all)});
            }
        }
        System.out.println();
        MigrationBench.printRows(rows);
        System.out.println("(every variant of a guest runs once per round, one after the other; RAM/total: the guest's"
                + " RAM over the total time; wire MiB/s: the throughput as QEMU counts it, bytes on the wire over"
                + " the time after setup; ratio: page bytes over what they took compressed; CPU s: each host"
                + " process's CPU time from just before migrate to its end, all threads, the guest's vCPUs"
                + " included (the rate-limited sweep's spend about the same per second in every variant))");
    }

    /**
     * Whether {@code with} takes less than {@code 1/factor} of {@code base}'s total time: the rank-sum
     * test of {@code base}'s totals against {@code factor} times {@code with}'s. PASS when shown faster,
     * MISS when shown slower, "----" otherwise (and for a comparison that is no target).
     */
    private static void faster(Map<Scenario, List<Run>> results, Scenario base, Scenario with, double factor,
            boolean target, String what) {
        double[] a = values(results.get(base), r -> r.totalMs);
        double[] b = values(results.get(with), r -> factor * r.totalMs);
        double p = ExtraTables.rankSumP(a, b);
        double shift = ExtraTables.hodgesLehmann(a, b);
        boolean enough = a.length >= ENOUGH && b.length >= ENOUGH;
        boolean shown = enough && p < 0.05;
        String mark = !target ? "----" : shown && shift < 0 ? "PASS" : shown ? "MISS" : "----";
        double speedup = MigrationBench.median(a) / (MigrationBench.median(b) / factor);
        int failed = results.get(base).size() - a.length + results.get(with).size() - b.length;
        System.out.printf(Locale.ROOT, "  %s  %s: %s%s: %.2f x as fast (total %s ms against %s ms), rank-sum p = %.2f"
                        + " over %d + %d runs%s%s%n", mark, with.label(), what, target ? "" : " (not a target here)",
                speedup, MigrationBench.stat(done(results.get(with)), r -> r.totalMs),
                MigrationBench.stat(done(results.get(base)), r -> r.totalMs), p, b.length, a.length,
                !enough ? " [fewer than " + ENOUGH + " runs each: not conclusive]"
                        : !shown ? ": no difference shown, which is no pass" : shift < 0 ? ""
                        : factor == 1 ? ": shown slower" : String.format(Locale.ROOT, ": shown short of %.0f x", factor),
                failed > 0 ? "; " + failed + " run(s) did not complete" : "");
    }

    /** What compression cost: the ratio and both hosts' CPU time against the same migration without. */
    private static void cost(Map<Scenario, List<Run>> results, Scenario plain, Scenario with) {
        List<Run> w = done(results.get(with));
        List<Run> o = done(results.get(plain));
        System.out.printf(Locale.ROOT, "  ----  %s: ratio %s; CPU per run: source %s s, destination %s s, against %s s"
                        + " and %s s without compression%n", with.label(), MigrationBench.stat2(w, r -> r.ratio),
                MigrationBench.stat2(w, r -> r.srcCpuMs / 1000), MigrationBench.stat2(w, r -> r.dstCpuMs / 1000),
                MigrationBench.stat2(o, r -> r.srcCpuMs / 1000), MigrationBench.stat2(o, r -> r.dstCpuMs / 1000));
    }

    private static List<Run> done(List<Run> all) {
        return all.stream().filter(r -> r.completed).toList();
    }

    private static double[] values(List<Run> runs, ToDoubleFunction<Run> f) {
        return done(runs).stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).sorted().toArray();
    }
}
