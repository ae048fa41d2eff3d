package bloom4j.train.data;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXParseException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * The lead part's lyric of a MusicXML score as timed phrases: a rest of at least max(1 beat, 0.35 s) closes a phrase.
 * Only the lead part is read (its {@code part-name} matches /lead/i, else the first part), and in it only the first voice, so
 * backing parts' scat never mixes into the lead lyric (the seed fork concatenated the lyrics of every part). Chords and grace
 * notes add no time; {@code <extend/>} and notes without a lyric continue the previous syllable; Latin syllables are joined by
 * {@code <syllabic>} begin/middle/end. Reads {@code .musicxml}/{@code .xml} and compressed {@code .mxl} (a zip whose
 * {@code META-INF/container.xml} names the score). External DTDs and entities are never fetched.
 */
public final class MusicXmlLyrics {
    private MusicXmlLyrics() {}

    /** One sung syllable: onset and end in seconds, its text. */
    public record Syllable(double t0, double t1, String text) { }

    /** A phrase: first onset, last end, the joined text, and its syllables. */
    public record Phrase(double start, double end, String text, List<Syllable> syllables) { }

    /** A score that cannot be read: the message names the file and, when known, the line. */
    public static final class ScoreException extends IOException {
        public ScoreException(String message, Throwable cause) { super(message, cause); }
    }

    private static final Pattern LEAD = Pattern.compile("(?i).*lead.*");

    public static List<Phrase> read(Path file) throws IOException {
        Document doc = parse(file);
        Element root = doc.getDocumentElement();
        if (!root.getTagName().equals("score-partwise")) {
            throw new ScoreException(file + ": expected a <score-partwise> MusicXML score, found <" + root.getTagName() + ">", null);
        }
        String partId = leadPartId(root);
        Element part = null;
        for (Element p : children(root, "part")) {
            if (partId == null || partId.equals(p.getAttribute("id"))) {
                part = p;
                break;
            }
        }
        if (part == null) throw new ScoreException(file + ": the score has no <part>", null);
        try {
            return phrases(part);
        } catch (NumberFormatException e) {
            throw new ScoreException(file + ": a <divisions>, <duration> or tempo is not a number (" + e.getMessage() + ")", e);
        }
    }

    private static String leadPartId(Element root) {
        List<Element> lists = children(root, "part-list");
        if (lists.isEmpty()) return null;
        String first = null;
        for (Element sp : children(lists.get(0), "score-part")) {
            if (first == null) first = sp.getAttribute("id");
            for (Element n : children(sp, "part-name")) if (LEAD.matcher(n.getTextContent()).matches()) return sp.getAttribute("id");
        }
        return first;
    }

    private static List<Phrase> phrases(Element part) {
        int divisions = 1;
        double tempo = 120;
        double cursor = 0;
        String voice = null;
        List<Phrase> out = new ArrayList<>();
        List<Syllable> current = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        double restRun = 0;
        for (Element measure : children(part, "measure")) {
            for (Node n = measure.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (!(n instanceof Element e)) continue;
                switch (e.getTagName()) {
                    case "attributes" -> {
                        for (Element d : children(e, "divisions")) divisions = Math.max(1, Integer.parseInt(d.getTextContent().trim()));
                    }
                    case "direction", "sound" -> {
                        Double t = tempoOf(e);
                        if (t != null) tempo = t;
                    }
                    case "backup" -> cursor -= seconds(e, divisions, tempo);
                    case "forward" -> cursor += seconds(e, divisions, tempo);
                    case "note" -> {
                        if (!children(e, "grace").isEmpty() || !children(e, "chord").isEmpty()) continue;
                        String v = text(e, "voice");
                        if (voice == null) voice = v;
                        double dur = seconds(e, divisions, tempo);
                        if (v != null && voice != null && !v.equals(voice)) {
                            cursor += dur;
                            continue;
                        }
                        boolean rest = !children(e, "rest").isEmpty();
                        if (rest) {
                            restRun += dur;
                            double beat = 60.0 / tempo;
                            if (restRun >= Math.max(beat, 0.35) && !current.isEmpty()) {
                                out.add(close(current, text));
                                current = new ArrayList<>();
                                text.setLength(0);
                            }
                        } else {
                            restRun = 0;
                            Element lyric = lyric(e);
                            if (lyric != null && children(lyric, "text").size() > 0) {
                                StringBuilder syl = new StringBuilder();
                                for (Element t : children(lyric, "text")) syl.append(t.getTextContent().trim());
                                String syllabic = text(lyric, "syllabic");
                                boolean latinJoin = syllabic != null && (syllabic.equals("middle") || syllabic.equals("end"));
                                if (text.length() > 0 && !latinJoin && isLatin(syl)) text.append(' ');
                                text.append(syl);
                                current.add(new Syllable(cursor, cursor + dur, syl.toString()));
                            } else if (!current.isEmpty()) {   // melisma: the last syllable lasts longer
                                Syllable last = current.remove(current.size() - 1);
                                current.add(new Syllable(last.t0(), cursor + dur, last.text()));
                            }
                        }
                        cursor += dur;
                    }
                    default -> { }
                }
            }
        }
        if (!current.isEmpty()) out.add(close(current, text));
        return out;
    }

    private static boolean isLatin(CharSequence s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < 0x80 && Character.isLetter(s.charAt(i))) return true;
        return false;
    }

    private static Phrase close(List<Syllable> syl, StringBuilder text) {
        return new Phrase(syl.get(0).t0(), syl.get(syl.size() - 1).t1(), text.toString().strip(), List.copyOf(syl));
    }

    private static Element lyric(Element note) {
        List<Element> ls = children(note, "lyric");
        for (Element l : ls) if (l.getAttribute("number").isEmpty() || l.getAttribute("number").equals("1")) return l;
        return ls.isEmpty() ? null : ls.get(0);
    }

    private static Double tempoOf(Element e) {
        if (e.getTagName().equals("sound") && !e.getAttribute("tempo").isEmpty()) return Double.parseDouble(e.getAttribute("tempo"));
        NodeList sounds = e.getElementsByTagName("sound");
        for (int i = 0; i < sounds.getLength(); i++) {
            String t = ((Element) sounds.item(i)).getAttribute("tempo");
            if (!t.isEmpty()) return Double.parseDouble(t);
        }
        return null;
    }

    private static double seconds(Element e, int divisions, double tempo) {
        String d = text(e, "duration");
        return d == null ? 0 : Double.parseDouble(d) / divisions * 60.0 / tempo;
    }

    private static String text(Element e, String child) {
        List<Element> c = children(e, child);
        return c.isEmpty() ? null : c.get(0).getTextContent().trim();
    }

    private static List<Element> children(Element e, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(name)) out.add(c);
        }
        return out;
    }

    private static Document parse(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        String where = file.toString();
        if (name.endsWith(".mxl")) {
            byte[] container = entry(bytes, "META-INF/container.xml", file);
            Element rf = first(xml(container, file + "!META-INF/container.xml"), "rootfile");
            if (rf == null || rf.getAttribute("full-path").isEmpty()) {
                throw new ScoreException(file + ": META-INF/container.xml names no <rootfile full-path=...>", null);
            }
            String inner = rf.getAttribute("full-path");
            bytes = entry(bytes, inner, file);
            where = file + "!" + inner;
        }
        return xml(bytes, where);
    }

    private static Element first(Document d, String tag) {
        NodeList l = d.getElementsByTagName(tag);
        return l.getLength() == 0 ? null : (Element) l.item(0);
    }

    private static byte[] entry(byte[] zip, String name, Path file) throws IOException {
        try (ZipInputStream z = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
                if (e.getName().equals(name)) return z.readNBytes(64 << 20);
            }
        }
        throw new ScoreException(file + ": the .mxl archive has no " + name, null);
    }

    private static Document xml(byte[] bytes, String where) throws IOException {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setExpandEntityReferences(false);
            f.setXIncludeAware(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            try (InputStream in = new ByteArrayInputStream(bytes)) {
                return b.parse(in);
            }
        } catch (SAXParseException e) {
            throw new ScoreException(where + " line " + e.getLineNumber() + ": not well-formed XML: " + e.getMessage(), e);
        } catch (org.xml.sax.SAXException | javax.xml.parsers.ParserConfigurationException e) {
            throw new ScoreException(where + ": cannot be parsed: " + e.getMessage(), e);
        } catch (NumberFormatException e) {
            throw new ScoreException(where + ": a number field is not a number: " + e.getMessage(), e);
        }
    }
}
