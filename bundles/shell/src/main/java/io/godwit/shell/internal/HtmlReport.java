package io.godwit.shell.internal;

import io.godwit.api.migration.MigrationHistory;
import io.godwit.api.migration.MigrationInfo;
import io.godwit.api.migration.MigrationPass;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.Shape;
import java.awt.geom.RectangularShape;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarPainter;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.SVGHints;

/**
 * {@code info migrate --report FILE}: one self-contained HTML page on an outgoing migration, from the
 * coordinator's record of it ({@link MigrationHistory}, one entry per pass as its sync saw it): a
 * summary, SVG charts drawn by JFreeChart into JFreeSVG (bytes per pass, dirty rate against bandwidth,
 * expected downtime against the limit, the throttle, the downtimes of the switchover) and the table
 * of passes. The page loads nothing (its Content-Security-Policy forbids it) and runs no script.
 *
 * <p>Every series' line or bar carries an id ({@code CHART-SERIES}, or {@code CHART-SERIES-CATEGORY}
 * for a bar), so a test or a tool can find the series in the page's DOM.
 */
final class HtmlReport {

    static final String RATES = "rates";
    static final String BYTES = "bytes";
    static final String DOWNTIME = "downtime";
    static final String THROTTLE = "throttle";
    static final String SWITCHOVER = "switchover";

    private static final int WIDTH = 820;
    private static final int HEIGHT = 320;
    private static final double MIB = 1 << 20;
    private static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd)
    };

    private HtmlReport() {}

    /** Writes the page for {@code vm} to {@code file} (replaced whole: a reader never sees half a page). */
    static Path write(Path file, String vm, MigrationInfo info, MigrationHistory history) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = Files.createTempFile(dir, ".report-", ".tmp"); // 0600, as every file a host makes
        try {
            Files.writeString(tmp, page(vm, info, history), StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }

    static String page(String vm, MigrationInfo info, MigrationHistory h) {
        List<MigrationPass> passes = h.passes();
        StringBuilder out = new StringBuilder(64 << 10);
        out.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">")
                .append("<title>Migration of VM ").append(esc(vm)).append("</title><style>")
                .append("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}")
                .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f0f0f0}")
                .append("td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}")
                .append("figcaption{color:#555;max-width:").append(WIDTH).append("px}</style></head><body>\n")
                .append("<h1>Migration of VM ").append(esc(vm)).append("</h1>\n");
        summary(out, info, h);
        figure(out, BYTES, "Bytes sent per pass; the switchover's bytes last", bytesChart(h));
        figure(out, RATES, "Dirty rate against bandwidth at the end of each pass; the line marks the switchover,"
                + " the band the guest's pause (observed downtime)", ratesChart(h, info));
        figure(out, DOWNTIME, "Expected downtime at the end of each pass against the downtime limit",
                downtimeChart(h, info));
        figure(out, THROTTLE, "CPU throttle (auto-converge) each pass ran under", throttleChart(h));
        figure(out, SWITCHOVER, "The switchover: expected downtime at the last pass, the limit, the source's"
                + " downtime (stop to last byte sent) and the guest-observed downtime (source stop to destination"
                + " resume)", switchoverChart(h, info));
        passTable(out, passes);
        return out.append("</body></html>\n").toString();
    }

    private static void summary(StringBuilder out, MigrationInfo i, MigrationHistory h) {
        List<MigrationPass> p = h.passes();
        out.append("<table class=\"summary\">");
        row(out, "status", i.status().qemuName());
        row(out, "total time", ms(i.totalTimeMs()));
        row(out, "setup time", ms(i.setupTimeMs()));
        row(out, "passes", String.valueOf(p.size()));
        row(out, "RAM", MigrationReport.compact(i.ram().total()));
        row(out, "transferred", MigrationReport.compact(i.ram().transferred()));
        row(out, "switchover", h.switchoverMs() < 0 ? "not reached"
                : (h.postcopy() ? "to postcopy" : "stop-and-copy") + " at " + ms(h.switchoverMs()) + ", "
                        + MigrationReport.compact(h.switchoverBytes()) + " sent");
        row(out, "downtime limit", p.isEmpty() ? "-" : ms(p.getLast().downtimeLimitMs()));
        row(out, "downtime (source)", ms(i.downtimeMs()));
        row(out, "observed downtime (guest)", ms(i.observedDowntimeMs()));
        if (i.error() != null) {
            row(out, "error", i.error());
        }
        out.append("</table>\n");
    }

    private static void passTable(StringBuilder out, List<MigrationPass> passes) {
        out.append("<h2>Passes</h2><table class=\"passes\"><tr><th>pass</th><th>start</th><th>end</th><th>sent</th>")
                .append("<th>dirty rate</th><th>bandwidth</th><th>expected downtime</th><th>limit</th><th>throttle</th>")
                .append("<th>dirty after</th></tr>\n");
        for (MigrationPass p : passes) {
            out.append("<tr><td>").append(p.pass()).append("</td><td>").append(ms(p.startMs()))
                    .append("</td><td>").append(ms(p.endMs()))
                    .append("</td><td>").append(MigrationReport.compact(p.bytesSent()))
                    .append("</td><td>").append(MigrationReport.compact(p.dirtyBytesPerSecond())).append("/s")
                    .append("</td><td>").append(MigrationReport.compact(p.bandwidthBytesPerSecond())).append("/s")
                    .append("</td><td>").append(p.expectedDowntimeMs() < 0 ? "-" : ms(p.expectedDowntimeMs()))
                    .append("</td><td>").append(ms(p.downtimeLimitMs()))
                    .append("</td><td>").append(p.throttlePercent()).append(" %")
                    .append("</td><td>").append(MigrationReport.compact(p.remainingBytes())).append("</td></tr>\n");
        }
        out.append("</table>\n");
    }

    private static JFreeChart bytesChart(MigrationHistory h) {
        DefaultCategoryDataset d = new DefaultCategoryDataset();
        for (MigrationPass p : h.passes()) {
            d.addValue(p.bytesSent() / MIB, "bytes sent", "pass " + p.pass());
        }
        if (h.switchoverMs() >= 0) {
            d.addValue(h.switchoverBytes() / MIB, "bytes sent", "switchover");
        }
        return bars(BYTES, ChartFactory.createBarChart(null, "pass", "MiB", d));
    }

    private static JFreeChart ratesChart(MigrationHistory h, MigrationInfo info) {
        XYSeries dirty = new XYSeries("dirty rate");
        XYSeries bandwidth = new XYSeries("bandwidth");
        for (MigrationPass p : h.passes()) {
            dirty.add(p.endMs() / 1e3, p.dirtyBytesPerSecond() / MIB);
            bandwidth.add(p.endMs() / 1e3, p.bandwidthBytesPerSecond() / MIB);
        }
        JFreeChart c = lines(RATES, ChartFactory.createXYLineChart(null, "time since migrate (s)", "MiB/s",
                collection(dirty, bandwidth)));
        markSwitchover(c.getXYPlot(), h, info);
        return c;
    }

    private static JFreeChart downtimeChart(MigrationHistory h, MigrationInfo info) {
        XYSeries expected = new XYSeries("expected downtime");
        XYSeries limit = new XYSeries("downtime limit");
        for (MigrationPass p : h.passes()) {
            if (p.expectedDowntimeMs() >= 0) {
                expected.add(p.endMs() / 1e3, p.expectedDowntimeMs());
            }
            limit.add(p.endMs() / 1e3, p.downtimeLimitMs());
        }
        JFreeChart c = lines(DOWNTIME, ChartFactory.createXYLineChart(null, "time since migrate (s)", "ms",
                collection(expected, limit)));
        markSwitchover(c.getXYPlot(), h, info);
        return c;
    }

    private static JFreeChart throttleChart(MigrationHistory h) {
        XYSeries throttle = new XYSeries("cpu throttle");
        for (MigrationPass p : h.passes()) {
            throttle.add(p.pass(), p.throttlePercent());
        }
        JFreeChart c = lines(THROTTLE, ChartFactory.createXYLineChart(null, "pass", "%", collection(throttle)));
        c.getXYPlot().getRangeAxis().setRange(0, 100);
        return c;
    }

    private static JFreeChart switchoverChart(MigrationHistory h, MigrationInfo info) {
        DefaultCategoryDataset d = new DefaultCategoryDataset();
        List<MigrationPass> p = h.passes();
        if (!p.isEmpty()) {
            d.addValue(Math.max(0, p.getLast().expectedDowntimeMs()), "expected downtime", SWITCHOVER);
            d.addValue(p.getLast().downtimeLimitMs(), "downtime limit", SWITCHOVER);
        }
        if (info.downtimeMs() >= 0) {
            d.addValue(info.downtimeMs(), "downtime (source)", SWITCHOVER);
        }
        if (info.observedDowntimeMs() >= 0) {
            d.addValue(info.observedDowntimeMs(), "observed downtime (guest)", SWITCHOVER);
        }
        return bars(SWITCHOVER, ChartFactory.createBarChart(null, null, "ms", d));
    }

    /** A line at the switchover and, when known, a band over the guest's pause. */
    private static void markSwitchover(XYPlot plot, MigrationHistory h, MigrationInfo info) {
        if (h.switchoverMs() < 0) {
            return;
        }
        double at = h.switchoverMs() / 1e3;
        if (info.observedDowntimeMs() >= 0) {
            IntervalMarker pause = new IntervalMarker(at, at + info.observedDowntimeMs() / 1e3);
            pause.setPaint(new Color(255, 200, 0, 90));
            plot.addDomainMarker(pause);
        }
        ValueMarker m = new ValueMarker(at, Color.DARK_GRAY, new BasicStroke(1.5f));
        m.setLabel(h.postcopy() ? "postcopy" : "switchover");
        m.setLabelAnchor(RectangleAnchor.TOP_LEFT);
        m.setLabelTextAnchor(TextAnchor.TOP_RIGHT);
        plot.addDomainMarker(m);
    }

    private static XYSeriesCollection collection(XYSeries... series) {
        XYSeriesCollection c = new XYSeriesCollection();
        for (XYSeries s : series) {
            c.addSeries(s);
        }
        return c;
    }

    private static JFreeChart lines(String id, JFreeChart chart) {
        XYPlot plot = chart.getXYPlot();
        plot.setRenderer(new TaggedLines(id));
        style(chart);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return chart;
    }

    private static JFreeChart bars(String id, JFreeChart chart) {
        CategoryPlot plot = chart.getCategoryPlot();
        BarRenderer r = (BarRenderer) plot.getRenderer();
        r.setBarPainter(new TaggedBars(id, new StandardBarPainter()));
        r.setShadowVisible(false);
        r.setMaximumBarWidth(0.08);
        for (int s = 0; s < COLORS.length; s++) {
            r.setSeriesPaint(s, COLORS[s]);
        }
        style(chart);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return chart;
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
    }

    private static void figure(StringBuilder out, String id, String caption, JFreeChart chart) {
        SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
        g.setDefsKeyPrefix(id + "-"); // the page holds several SVGs: their clip ids must differ
        chart.draw(g, new Rectangle(0, 0, WIDTH, HEIGHT));
        out.append("<figure>").append(g.getSVGElement(id)).append("<figcaption>").append(esc(caption))
                .append("</figcaption></figure>\n");
    }

    /** The element id of a series ({@code chart-series}) or of one bar ({@code chart-series-category}). */
    static String id(String chart, Object... keys) {
        StringBuilder b = new StringBuilder(chart);
        for (Object k : keys) {
            b.append('-').append(k.toString().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-")
                    .replaceAll("^-|-$", ""));
        }
        return b.toString();
    }

    /** Lines whose path carries the series' id; each series in its own colour, with its points. */
    private static final class TaggedLines extends XYLineAndShapeRenderer {
        private final String chart;

        TaggedLines(String chart) {
            super(true, true);
            this.chart = chart;
            setDrawSeriesLineAsPath(true);
            for (int s = 0; s < COLORS.length; s++) {
                setSeriesPaint(s, COLORS[s]);
                setSeriesStroke(s, new BasicStroke(2f));
            }
        }

        @Override
        protected void drawFirstPassShape(Graphics2D g2, int pass, int series, int item, Shape shape) {
            g2.setRenderingHint(SVGHints.KEY_ELEMENT_ID, id(chart, getPlot().getDataset().getSeriesKey(series)));
            super.drawFirstPassShape(g2, pass, series, item, shape);
        }
    }

    /** Bars that carry their series' and category's id. */
    private record TaggedBars(String chart, BarPainter painter) implements BarPainter {
        @Override
        public void paintBar(Graphics2D g2, BarRenderer r, int row, int column, RectangularShape bar, RectangleEdge base) {
            CategoryDataset d = r.getPlot().getDataset();
            g2.setRenderingHint(SVGHints.KEY_ELEMENT_ID, id(chart, d.getRowKey(row), d.getColumnKey(column)));
            painter.paintBar(g2, r, row, column, bar, base);
        }

        @Override
        public void paintBarShadow(Graphics2D g2, BarRenderer r, int row, int column, RectangularShape bar,
                RectangleEdge base, boolean pegShadow) {
            painter.paintBarShadow(g2, r, row, column, bar, base, pegShadow);
        }
    }

    private static void row(StringBuilder out, String label, String value) {
        out.append("<tr><th>").append(esc(label)).append("</th><td>").append(esc(value)).append("</td></tr>");
    }

    private static String ms(long ms) {
        return ms < 0 ? "-" : String.format(Locale.ROOT, "%,d ms", ms);
    }

    /** HTML text: the error may quote the destination's words (escaped for terminals, not for HTML). */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
