package bloom4j.train.data;

import bloom4j.tensor.util.AtomicFiles;
import bloom4j.tensor.util.Sha256;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Train/validation split of a training JSONL, one song per line, as the seed fork's {@code split_items}
 * (ayutaz/SongBloom {@code SongBloom/training/split_jsonl.py} L19-34): a seeded shuffle of the line indices, the first
 * {@code floor(n · valRatio)} go to validation, and both outputs keep the input's line order. Whole subsets can be held out for
 * validation as well ({@code subset} field, or the {@code idx} prefix before the first '_'). The shuffle is bloom4j's own
 * (Fisher–Yates over {@link SplittableRandom}), not Python's {@code random.shuffle}.
 */
public final class Split {
    private Split() {}

    /** The two files written and their SHA-256. */
    public record Result(Path train, Path val, int trainLines, int valLines, String trainSha256, String valSha256) { }

    public static Result run(Path input, Path outDir, double valRatio, long seed, Set<String> valSubsets) throws IOException {
        if (!(valRatio >= 0 && valRatio < 1)) throw new IllegalArgumentException("--val-ratio must be in [0, 1), got " + valRatio);
        List<String> lines = new ArrayList<>();
        List<String> subsets = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        ObjectMapper om = new ObjectMapper();
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(input))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(input + ": not valid UTF-8 text");
        }
        String[] raw = text.split("\n", -1);
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < raw.length; i++) {
            String l = raw[i].strip();
            if (l.isEmpty()) continue;
            try {
                JsonNode n = om.readTree(l);
                if (n == null || !n.isObject() || !n.path("idx").isTextual()) {
                    errors.add(input + " line " + (i + 1) + ": expected a JSON object with a string 'idx'");
                    continue;
                }
                String idx = n.get("idx").asText();
                if (!ids.add(idx)) errors.add(input + " line " + (i + 1) + ": idx '" + idx + "' repeats an earlier line");
                lines.add(l);
                subsets.add(n.path("subset").isTextual() ? n.get("subset").asText()
                        : idx.contains("_") ? idx.substring(0, idx.indexOf('_')) : "");
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                errors.add(input + " line " + (i + 1) + ": not JSON: " + e.getOriginalMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException(errors.size() == 1 ? errors.get(0) : errors.size() + " bad lines:\n  " + String.join("\n  ", errors));
        }
        for (String s : valSubsets) {
            if (!subsets.contains(s)) throw new IllegalArgumentException("--val-subsets: no line of " + input + " is in subset '" + s + "'");
        }
        List<Integer> pool = new ArrayList<>();
        boolean[] val = new boolean[lines.size()];
        for (int i = 0; i < lines.size(); i++) {
            if (valSubsets.contains(subsets.get(i))) val[i] = true;
            else pool.add(i);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = pool.size() - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            Integer t = pool.get(i);
            pool.set(i, pool.get(j));
            pool.set(j, t);
        }
        int nVal = (int) Math.floor(pool.size() * valRatio);
        for (int k = 0; k < nVal; k++) val[pool.get(k)] = true;
        StringBuilder tr = new StringBuilder(), va = new StringBuilder();
        int nt = 0, nv = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (val[i]) {
                va.append(lines.get(i)).append('\n');
                nv++;
            } else {
                tr.append(lines.get(i)).append('\n');
                nt++;
            }
        }
        if (nt == 0) throw new IllegalArgumentException("the split leaves no training line (" + lines.size() + " lines, all validation)");
        Path train = outDir.resolve("train_split.jsonl"), valFile = outDir.resolve("val_split.jsonl");
        AtomicFiles.writeString(train, tr.toString());
        AtomicFiles.writeString(valFile, va.toString());
        return new Result(train, valFile, nt, nv, Sha256.of(train), Sha256.of(valFile));
    }
}
