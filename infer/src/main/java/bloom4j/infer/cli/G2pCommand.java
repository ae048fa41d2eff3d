package bloom4j.infer.cli;

import bloom4j.models.songbloom.LyricConditioner;
import bloom4j.models.songbloom.LyricFrontEnd;
import bloom4j.models.songbloom.LyricVocabulary;
import bloom4j.text.ja.JapaneseG2p;
import bloom4j.text.songbloom.SongBloomLyrics;
import bloom4j.text.zipvoice.ZipVoiceJapaneseTokens;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code bloom4j g2p}: lyrics or text to phones as SongBloom gets them, with token ids and what could not be read.
 */
@Command(name = "g2p", mixinStandardHelpOptions = true,
        description = {"Turn Japanese, Chinese or English lyrics into phones and SongBloom tokens, and report what cannot be read.",
                "Japanese (kana/kanji) goes through the Kuromoji-based G2P; structure tags and phoneme strings pass unchanged.",
                "Otherwise upstream's phoneme mode: vocabulary symbols stay, Chinese goes through HanLP pinyin with upstream's tone",
                "sandhi, English through the CMU dictionary (see README 'Lyrics')."})
final class G2pCommand implements Callable<Integer> {
    static final class Input {
        @Parameters(arity = "1", paramLabel = "TEXT", description = "the text or structured lyric") String text;
        @Option(names = "--file", paramLabel = "FILE", description = "read the text from a UTF-8 file instead") Path file;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Input input;
    @Option(names = "--lang", defaultValue = "auto", description = "auto (kana -> Japanese, else Han -> Chinese; default), ja or zh")
    String lang;
    @Option(names = "--target", defaultValue = "songbloom", description = "songbloom (default) or zipvoice (Japanese: ids of the "
            + "389-token extended table)") String target;
    @Option(names = "--devoice", description = "write devoiced vowels I/U as OpenJTalk does (speech; off for sung lyrics)") boolean devoice;

    @Override public Integer call() throws Exception {
        SongBloomLyrics.Lang l = lang(lang);
        String text = input.text != null ? input.text : read(input.file);
        if (target.equals("zipvoice")) return zipvoice(text);
        if (!target.equals("songbloom")) throw new IllegalArgumentException("--target must be songbloom or zipvoice, got " + target);
        SongBloomLyrics.Lang use = l == SongBloomLyrics.Lang.AUTO ? SongBloomLyrics.detect(text) : l;
        if (use == SongBloomLyrics.Lang.JA) {
            JapaneseG2p.Result r = JapaneseG2p.g2p(SongBloomLyrics.withoutTags(text), JapaneseG2p.Options.speech(devoice));
            int i = 1;
            for (JapaneseG2p.Sentence s : r.sentences()) {
                System.out.println("sentence " + i++ + (s.question() ? " (question)" : "") + ": " + String.join(" ", s.phones()));
            }
        }
        System.out.println("language: " + (use == SongBloomLyrics.Lang.JA ? "Japanese" : "Chinese/English (upstream's phoneme mode)"));
        LyricFrontEnd.Prepared p = LyricFrontEnd.prepare(text, null, LyricVocabulary.released(), LyricConditioner.RELEASED_MAX_LEN, l);
        System.out.println("songbloom: " + p.phonemes());
        List<String> ids = new ArrayList<>();
        LyricVocabulary v = LyricVocabulary.released();
        for (String piece : p.phonemes().split(" ", -1)) ids.add(v.contains(piece) ? Integer.toString(v.id(piece)) : "?" + piece);
        System.out.println("ids (" + p.tokens() + " of at most " + p.maxTokens() + "): " + String.join(" ", ids));
        if (p.lossy()) {
            System.out.println("lost: " + p.loss());
            for (Map.Entry<String, Integer> e : p.oov().entrySet()) System.out.println("  unread: " + e.getKey() + " ×" + e.getValue());
            return 1;
        }
        System.out.println("nothing lost");
        return 0;
    }

    private int zipvoice(String text) {
        if (!lang.equals("auto") && !lang.equals("ja")) {
            throw new IllegalArgumentException("--target zipvoice reads Japanese (--lang auto or ja), got --lang " + lang);
        }
        JapaneseG2p.Result r = JapaneseG2p.g2p(text, JapaneseG2p.Options.speech(devoice));
        List<String> tokens = ZipVoiceJapaneseTokens.tokens(r);
        List<String> ids = new ArrayList<>();
        for (String t : tokens) ids.add(Integer.toString(ZipVoiceJapaneseTokens.id(t)));
        System.out.println("zipvoice: " + String.join(" ", tokens));
        System.out.println("ids: " + String.join(" ", ids));
        if (!r.oov().isEmpty()) {
            for (Map.Entry<String, Integer> e : r.oov().entrySet()) System.out.println("  unread: " + e.getKey() + " ×" + e.getValue());
            return 1;
        }
        System.out.println("nothing lost");
        return 0;
    }

    /** {@code --lang} as a {@link SongBloomLyrics.Lang}. */
    static SongBloomLyrics.Lang lang(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "auto" -> SongBloomLyrics.Lang.AUTO;
            case "ja" -> SongBloomLyrics.Lang.JA;
            case "zh" -> SongBloomLyrics.Lang.ZH;
            default -> throw new IllegalArgumentException("--lang must be auto, ja or zh (zh = upstream's Chinese/English phoneme "
                    + "mode), got '" + s + "'");
        };
    }

    private static String read(Path f) throws java.io.IOException {
        if (!Files.isRegularFile(f)) throw new IllegalArgumentException("--file " + f + ": no such file");
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(f))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("--file " + f + ": not valid UTF-8 text (save it as UTF-8)");
        }
    }
}
