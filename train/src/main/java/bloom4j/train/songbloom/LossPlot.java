package bloom4j.train.songbloom;

import bloom4j.tensor.util.AtomicFiles;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The loss curve of a run as a PNG: training loss per step (and its running mean), validation loss per check. Headless Java2D. */
public final class LossPlot {
    private static final int W = 900, H = 480, LEFT = 70, RIGHT = 20, TOP = 36, BOTTOM = 50;

    private LossPlot() {}

    /** Draws {@code train} and {@code val} ({step, loss} pairs) into {@code png}, replacing it atomically. */
    public static void write(Path png, List<double[]> train, List<double[]> val) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
        for (List<double[]> l : List.of(train, val)) {
            for (double[] p : l) {
                if (!Double.isFinite(p[1])) continue;
                minX = Math.min(minX, p[0]);
                maxX = Math.max(maxX, p[0]);
                minY = Math.min(minY, p[1]);
                maxY = Math.max(maxY, p[1]);
            }
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.DARK_GRAY);
        g.drawString("SongBloom fine-tuning: loss (train: grey per step, blue running mean; validation: red)", LEFT, 20);
        if (minX > maxX) {
            g.drawString("no steps yet", W / 2 - 30, H / 2);
        } else {
            if (maxX == minX) maxX = minX + 1;
            double pad = (maxY - minY) * 0.05 + 1e-9;
            minY -= pad;
            maxY += pad;
            axes(g, minX, maxX, minY, maxY);
            g.setStroke(new BasicStroke(1f));
            line(g, train, new Color(0xB0B0B0), minX, maxX, minY, maxY);
            line(g, runningMean(train, Math.max(1, train.size() / 20)), new Color(0x1f77b4), minX, maxX, minY, maxY);
            g.setStroke(new BasicStroke(2f));
            line(g, val, new Color(0xd62728), minX, maxX, minY, maxY);
            g.setColor(new Color(0xd62728));
            for (double[] p : val) {
                int x = x(p[0], minX, maxX), y = y(p[1], minY, maxY);
                g.fillOval(x - 3, y - 3, 7, 7);
            }
        }
        g.dispose();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ImageIO.write(img, "png", buf);
        AtomicFiles.writeBytes(png, buf.toByteArray());
    }

    private static void axes(Graphics2D g, double minX, double maxX, double minY, double maxY) {
        g.setColor(Color.GRAY);
        g.drawRect(LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM);
        for (int i = 0; i <= 5; i++) {
            double v = minY + (maxY - minY) * i / 5;
            int y = y(v, minY, maxY);
            g.setColor(new Color(0xEEEEEE));
            g.drawLine(LEFT + 1, y, W - RIGHT - 1, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%.3g", v), 8, y + 4);
            double s = minX + (maxX - minX) * i / 5;
            g.drawString(String.format(Locale.ROOT, "%.0f", s), x(s, minX, maxX) - 10, H - BOTTOM + 16);
        }
        g.drawString("optimizer step", W / 2 - 40, H - 12);
    }

    private static void line(Graphics2D g, List<double[]> pts, Color c, double minX, double maxX, double minY, double maxY) {
        g.setColor(c);
        for (int i = 1; i < pts.size(); i++) {
            double[] a = pts.get(i - 1), b = pts.get(i);
            if (!Double.isFinite(a[1]) || !Double.isFinite(b[1])) continue;
            g.drawLine(x(a[0], minX, maxX), y(a[1], minY, maxY), x(b[0], minX, maxX), y(b[1], minY, maxY));
        }
    }

    static List<double[]> runningMean(List<double[]> pts, int window) {
        List<double[]> out = new java.util.ArrayList<>();
        double sum = 0;
        for (int i = 0; i < pts.size(); i++) {
            sum += pts.get(i)[1];
            if (i >= window) sum -= pts.get(i - window)[1];
            out.add(new double[] {pts.get(i)[0], sum / Math.min(i + 1, window)});
        }
        return out;
    }

    private static int x(double v, double min, double max) { return LEFT + (int) Math.round((v - min) / (max - min) * (W - LEFT - RIGHT)); }

    private static int y(double v, double min, double max) { return H - BOTTOM - (int) Math.round((v - min) / (max - min) * (H - TOP - BOTTOM)); }
}
