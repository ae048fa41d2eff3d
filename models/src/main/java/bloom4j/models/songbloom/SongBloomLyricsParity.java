package bloom4j.models.songbloom;

import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import com.fasterxml.jackson.databind.JsonNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Parity kind {@code songbloom-lyrics}: {@code PhonemeTokenizerConditioner} (mode sum) against the upstream run recorded in the
 * fixture: for each phoneme string, the token ids, the structure/special and sentence-index ids of the state machine, then the
 * padded/truncated embeddings of the batch and the (unused upstream) mask. The tables are read from the fixture's checkpoint
 * under their release keys; the vocabulary is the released one, checked equal to the fixture's list.
 */
public final class SongBloomLyricsParity implements ParityKind {

    @Override public String kind() { return "songbloom-lyrics"; }

    @Override public String description() {
        return "SongBloom lyric conditioner: tokenizer, structure/sentence state machine, summed embeddings, padding/truncation";
    }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        JsonNode cfg = f.config().path("PhonemeTokenizerConditioner");
        LyricVocabulary vocab = LyricVocabulary.released();
        if (f.json().has("vocab_list")) {
            List<String> listed = new ArrayList<>();
            f.json().get("vocab_list").forEach(n -> listed.add(n.asText()));
            report.check("vocabulary equals the released vocab_g2p.yaml (" + vocab.size() + " entries)", listed.equals(vocab.tokens()), "");
        }
        LyricConditioner c;
        try (TensorSource w = Checkpoints.open(f.checkpoint())) {
            c = LyricConditioner.load(w, vocab, cfg.path("max_len").asInt());
        }
        report.check("sentence table rows = max_sentence_per_structure (" + c.maxSentencePerStructure() + ")",
                c.maxSentencePerStructure() == cfg.path("max_sentence_per_structure").asInt(), "");

        List<TokenizedLyrics> all = new ArrayList<>();
        JsonNode strings = f.json().path("strings");
        for (int i = 0; i < strings.size(); i++) {
            TokenizedLyrics t = c.tokenizer().tokenize(strings.get(i).asText());
            all.add(t);
            report.compare("tokens_" + i, ids(t.tokenIds()), f.tensor("tokens_" + i));
            report.compare("special_ids_" + i, ids(t.specialIds()), f.tensor("special_ids_" + i));
            report.compare("sentence_ids_" + i, ids(t.sentenceIds()), f.tensor("sentence_ids_" + i));
        }
        report.compare("embeds", c.batch(all), f.tensor("embeds"));
        float[][] mask = new float[all.size()][];
        for (int i = 0; i < all.size(); i++) mask[i] = c.mask(all.get(i));
        report.compare("mask", Nd4j.create(mask), f.tensor("mask"));
    }

    private static INDArray ids(int[] v) {
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) l[i] = v[i];
        return Nd4j.createFromArray(l).castTo(DataType.LONG);
    }
}
