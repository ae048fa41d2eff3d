package bloom4j.train.data;

import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioFormat;
import bloom4j.tensor.audio.AudioIO;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A small jaCappella-like corpus made here (two-part MusicXML with kana in the lead and Latin scat in the alto, rests, an .mxl,
 * a broken score; 48 kHz WAVs), prepared and split end to end. Nothing is downloaded.
 */
class PrepareCorpusTest {
    @TempDir Path tmp;
    static final ObjectMapper JSON = new ObjectMapper();

    /** A note of {@code beats} quarter notes (divisions 2) with an optional lyric; null lyric and rest = a rest. */
    static String note(String lyric, double beats, boolean rest) {
        int dur = (int) Math.round(beats * 2);
        if (rest) return "<note><rest/><duration>" + dur + "</duration><voice>1</voice></note>";
        return "<note><pitch><step>C</step><octave>4</octave></pitch><duration>" + dur + "</duration><voice>1</voice>"
                + (lyric == null ? "" : "<lyric number=\"1\"><syllabic>single</syllabic><text>" + lyric + "</text></lyric>") + "</note>";
    }

    /** Lead: さ く ら | rest 1 beat | さ く ら; alto: LA BA DA. Tempo 60: one beat = 1 s. Starts after 2 beats of rest. */
    static String score(String[] first, String[] second) {
        StringBuilder lead = new StringBuilder("<measure number=\"1\"><attributes><divisions>2</divisions></attributes>"
                + "<direction><sound tempo=\"60\"/></direction>");
        lead.append(note(null, 2, true));
        for (String k : first) lead.append(note(k, 1, false));
        lead.append(note(null, 4, true));   // 4 s of rest: a phrase end, and an instrumental gap in the audio
        for (String k : second) lead.append(note(k, 1, false));
        lead.append(note(null, 2, true)).append("</measure>");
        String alto = "<measure number=\"1\"><attributes><divisions>2</divisions></attributes>" + note("LA", 2, false)
                + note("BA", 2, false) + note("DA", 2, false) + "</measure>";
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE score-partwise PUBLIC \"-//Recordare//DTD MusicXML 3.1 Partwise//EN\" "
                + "\"http://www.musicxml.org/dtds/partwise.dtd\">\n<score-partwise version=\"3.1\"><part-list>"
                + "<score-part id=\"P1\"><part-name>Alto</part-name></score-part><score-part id=\"P2\"><part-name>Lead Vocal</part-name>"
                + "</score-part></part-list><part id=\"P1\">" + alto + "</part><part id=\"P2\">" + lead + "</part></score-partwise>";
    }

    /** 48 kHz audio singing (a tone) during [2, 2 + n1) and [2 + n1 + 4, ...) seconds, silent otherwise. */
    static float[] voice(int n1, int n2) {
        int sr = 48000;
        double total = 2 + n1 + 4 + n2 + 2;
        float[] x = new float[(int) (total * sr)];
        for (int i = 0; i < x.length; i++) {
            double t = i / (double) sr;
            boolean on = (t >= 2 && t < 2 + n1) || (t >= 6 + n1 && t < 6 + n1 + n2);
            if (on) x[i] = (float) (0.3 * Math.sin(2 * Math.PI * 330 * t));
        }
        return x;
    }

    Path corpus() throws Exception {
        Path root = tmp.resolve("jacappella");
        String[] a = {"さ", "く", "ら"}, b = {"は", "な", "が"};
        for (String[] song : new String[][] {{"jazz", "song1"}, {"jazz", "song2"}, {"enka", "song3"}, {"enka", "broken"}}) {
            Path d = Files.createDirectories(root.resolve(song[0]).resolve(song[1]));
            float[] lead = voice(3, 3);
            AudioIO.write(d.resolve("lead_vocal.wav"), Audio.mono(lead, 48000), AudioFormat.WAV_PCM16);
            float[] mix = lead.clone();
            for (int i = 0; i < mix.length; i++) mix[i] += (float) (0.01 * Math.sin(i * 0.01));
            AudioIO.write(d.resolve("mixture.wav"), Audio.mono(mix, 48000), AudioFormat.WAV_PCM16);
            String xml = song[1].equals("song3") ? score(a, a) : score(a, b);
            if (song[1].equals("broken")) {
                Files.writeString(d.resolve("broken.musicxml"), xml.substring(0, xml.length() / 2));
            } else if (song[1].equals("song2")) {   // compressed score
                ByteArrayOutputStream zip = new ByteArrayOutputStream();
                try (ZipOutputStream z = new ZipOutputStream(zip)) {
                    z.putNextEntry(new ZipEntry("META-INF/container.xml"));
                    z.write(("<?xml version=\"1.0\"?><container><rootfiles><rootfile full-path=\"score.xml\"/></rootfiles></container>")
                            .getBytes(StandardCharsets.UTF_8));
                    z.putNextEntry(new ZipEntry("score.xml"));
                    z.write(xml.getBytes(StandardCharsets.UTF_8));
                }
                Files.write(d.resolve("song2.mxl"), zip.toByteArray());
            } else {
                Files.writeString(d.resolve(song[1] + ".musicxml"), xml);
            }
        }
        return root;
    }

    @Test
    void theLeadPartAloneSplitAtItsRests() throws Exception {
        Path f = tmp.resolve("s.musicxml");
        Files.writeString(f, score(new String[] {"さ", "く", "ら"}, new String[] {"は", "な"}));
        List<MusicXmlLyrics.Phrase> p = MusicXmlLyrics.read(f);
        assertEquals(2, p.size(), p.toString());
        assertEquals("さくら", p.get(0).text());
        assertEquals("はな", p.get(1).text());
        assertEquals(2.0, p.get(0).start(), 1e-9);
        assertEquals(9.0, p.get(1).start(), 1e-9);
        assertEquals(3, p.get(0).syllables().size());
    }

    @Test
    void preparesKeepsRejectsAndResumes() throws Exception {
        Path root = corpus(), out = tmp.resolve("prepared");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrepareCorpus.Options o = new PrepareCorpus.Options(PrepareCorpus.Format.JACAPPELLA, root, out, "mixture", "plain", "vocal", 1,
                false);
        PrepareCorpus.Result r = PrepareCorpus.run(o, false, new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(3, r.kept(), log.toString());
        assertEquals(1, r.rejected());
        assertTrue(log.toString().contains("rejected enka_broken:") && log.toString().contains("not well-formed XML"), log.toString());

        List<String> lines = Files.readAllLines(r.jsonl());
        assertEquals(3, lines.size());
        JsonNode song1 = JSON.readTree(lines.stream().filter(l -> l.contains("jazz_song1")).findFirst().orElseThrow());
        assertEquals("[intro] [intro] , [verse] さくら , [inst] [inst] [inst] [inst] , [verse] はなが , [outro] [outro]",
                song1.get("lyrics").asText());
        assertEquals("[intro] [intro] , [verse] s a k u r a , [inst] [inst] [inst] [inst] , [verse] h a n a g a , [outro] [outro]",
                song1.get("lyrics_phonemes").asText());
        assertFalse(song1.get("lyrics").asText().contains("LA"), "the alto's scat never reaches the lead lyric");
        assertEquals("jazz", song1.get("subset").asText());
        JsonNode song3 = JSON.readTree(lines.stream().filter(l -> l.contains("enka_song3")).findFirst().orElseThrow());
        assertTrue(song3.get("lyrics").asText().contains("[chorus] さくら , [inst]"), "a repeated section is a chorus both times");
        Audio prompt = AudioIO.read(Path.of(song1.get("prompt_wav").asText()));
        assertEquals(480000, prompt.frames());
        assertEquals(48000, prompt.sampleRate());
        double energy = 0;
        float[] pc = prompt.channel(0);
        for (int i = 0; i < 4800; i++) energy += pc[i] * pc[i];
        assertTrue(energy / 4800 > 0.01, "the prompt starts at the first vocal onset (its first 0.1 s are sung)");

        JsonNode report = JSON.readTree(r.report().toFile());
        assertEquals(3, report.get("kept").asInt());

        long mtime = Files.getLastModifiedTime(out.resolve("items/jazz_song1.json")).toMillis();
        Thread.sleep(20);
        PrepareCorpus.Result again = PrepareCorpus.run(o, false, new PrintStream(new ByteArrayOutputStream()));
        assertEquals(3, again.kept());
        assertEquals(mtime, Files.getLastModifiedTime(out.resolve("items/jazz_song1.json")).toMillis(), "finished songs are skipped");
        assertThrows(IllegalStateException.class, () -> PrepareCorpus.run(new PrepareCorpus.Options(PrepareCorpus.Format.JACAPPELLA,
                root, out, "lead_vocal", "plain", "vocal", 1, false), false, new PrintStream(new ByteArrayOutputStream())));

        Split.Result s = Split.run(r.jsonl(), out, 0.34, 1234, Set.of());
        assertEquals(2, s.trainLines());
        assertEquals(1, s.valLines());
    }

    @Test
    void aPlainFolderOfSongsWithTextLyrics() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("plain"));
        AudioIO.write(root.resolve("mine.wav"), Audio.mono(voice(3, 3), 48000), AudioFormat.WAV_PCM16);
        Files.writeString(root.resolve("mine.txt"), "さくら さくら\nやよいの そらは\n");
        AudioIO.write(root.resolve("tagged.wav"), Audio.mono(voice(2, 2), 48000), AudioFormat.WAV_PCM16);
        Files.writeString(root.resolve("tagged.txt"), "[intro] , [verse] n i3 h ao3 , [outro]");
        AudioIO.write(root.resolve("nolyric.wav"), Audio.mono(voice(1, 1), 48000), AudioFormat.WAV_PCM16);
        PrepareCorpus.Result r = PrepareCorpus.run(new PrepareCorpus.Options(PrepareCorpus.Format.PLAIN, root, tmp.resolve("p"),
                "mixture", "plain", "start", 1, false), false, new PrintStream(new ByteArrayOutputStream()));
        assertEquals(2, r.kept());
        assertEquals(1, r.rejected());
        List<String> lines = Files.readAllLines(r.jsonl());
        JsonNode mine = JSON.readTree(lines.stream().filter(l -> l.contains("\"mine\"")).findFirst().orElseThrow());
        assertEquals("[intro] [intro] , [verse] s a k u r a s a k u r a . y a y o i n o s o r a w a , [outro] [outro]",
                mine.get("lyrics_phonemes").asText());
        JsonNode tagged = JSON.readTree(lines.stream().filter(l -> l.contains("\"tagged\"")).findFirst().orElseThrow());
        assertEquals("[intro] , [verse] n i3 h ao3 , [outro]", tagged.get("lyrics_phonemes").asText());
    }
}
