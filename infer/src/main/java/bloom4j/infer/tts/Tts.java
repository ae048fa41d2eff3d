package bloom4j.infer.tts;

import bloom4j.models.GaussianNoise;
import bloom4j.models.zipvoice.Vocos;
import bloom4j.models.zipvoice.VocosFbank;
import bloom4j.models.zipvoice.ZipVoiceModel;
import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.Resampler;
import bloom4j.text.zipvoice.TokenTable;
import bloom4j.text.zipvoice.ZipVoiceTokenizer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Zero-shot TTS with ZipVoice or ZipVoice-Distill and Vocos, as upstream's {@code generate_sentence} does it
 * (k2-fsa/ZipVoice@2f7326f {@code zipvoice/bin/infer_zipvoice.py} L460-630):
 * <ol>
 *   <li>prompt: mono, resampled to 24 kHz, long and edge silences removed and 200 ms of silence appended ({@link Silence}), raised
 *       to RMS 0.1 if quieter, log-mel ({@link VocosFbank}) × 0.1;</li>
 *   <li>texts: {@code .} appended unless they end in punctuation, tokenized ({@link ZipVoiceTokenizer}), the target split at
 *       punctuation into chunks sized so that prompt + chunk ≈ 25 s, chunks batched up to 100 s with the prompt repeated;</li>
 *   <li>per batch {@link ZipVoiceModel#sample}, per item Vocos on the generated frames ÷ 0.1, clamped to [−1, 1], scaled back to the
 *       prompt's loudness if it was raised;</li>
 *   <li>chunks joined in text order with a 0.1 s cross-fade, edge silence removed.</li>
 * </ol>
 * Unlike upstream, tokens the model's table lacks and words the G2P cannot read are reported in {@link Report}, not dropped
 * silently. One instance serves one thread at a time.
 */
public final class Tts {
    public static final int SAMPLE_RATE = VocosFbank.SAMPLE_RATE;
    public static final float TARGET_RMS = 0.1f;
    public static final double CHUNK_SECONDS = 25, MAX_BATCH_SECONDS = 100, FADE_SECONDS = 0.1;

    private final ZipVoiceModel model;
    private final TokenTable table;
    private final Vocos vocoder;
    private final VocosFbank fbank = new VocosFbank();

    private Tts(ZipVoiceModel model, TokenTable table, Vocos vocoder) {
        this.model = model;
        this.table = table;
        this.vocoder = vocoder;
    }

    /** A ZipVoice model folder (see {@link ZipVoiceModel#load(Path)}) and a Vocos folder (see {@link Vocos#loadFolder}). */
    public static Tts load(Path modelDir, Path vocoderDir) throws IOException {
        ZipVoiceModel m = ZipVoiceModel.load(modelDir);
        TokenTable t = TokenTable.read(ZipVoiceModel.Files.of(modelDir).tokens());
        return new Tts(m, t, Vocos.loadFolder(vocoderDir));
    }

    public ZipVoiceModel model() { return model; }

    public TokenTable tokens() { return table; }

    /** How to synthesize; {@link #defaults} gives upstream's per-model defaults. */
    public record Options(ZipVoiceTokenizer.Lang lang, boolean devoice, ZipVoiceModel.SamplerOptions sampler, long seed,
                          boolean removeLongSilence) {
        public static Options defaults(boolean distill) {
            return new Options(ZipVoiceTokenizer.Lang.AUTO, false, ZipVoiceModel.SamplerOptions.defaults(distill), 666, false);
        }

        public Options withSampler(ZipVoiceModel.SamplerOptions s) { return new Options(lang, devoice, s, seed, removeLongSilence); }
    }

    /** A prompt recording with its transcript, and the text to speak in that voice. */
    public record Request(Audio prompt, String promptText, String text) { }

    /** Called with each chunk's audio in text order as soon as it and every chunk before it are done. */
    public interface Listener {
        /** Before the first chunk, with their number. */
        default void started(int chunks) { }

        void chunk(int index, int total, float[] audio);
    }

    /** The tokens used and what was lost on the way. */
    public record Report(List<String> promptTokens, List<String> textTokens, String language, Map<String, Integer> unreadWords,
                         Map<String, Integer> unknownTokens, int chunks, int batches, double promptSeconds) {
        /** Whether anything of the texts was not spoken. */
        public boolean lossy() { return !unreadWords.isEmpty() || !unknownTokens.isEmpty(); }
    }

    /** The speech (24 kHz mono) and the report. */
    public record Result(float[] audio, Report report) {
        public double seconds() { return audio.length / (double) SAMPLE_RATE; }
    }

    /** The tokens of a request without running the model (for checking inputs first). */
    public Report analyse(Request r, Options o) {
        return prepare(r, o, null).report();
    }

    private record Prepared(Report report, List<int[]> chunkIds, int[] promptIds, float[] prompt, float promptRms) { }

    private Prepared prepare(Request r, Options o, float[] promptAudio) {
        ZipVoiceTokenizer.Result pt = ZipVoiceTokenizer.tokens(Chunks.addPunctuation(r.promptText()), o.lang(), o.devoice());
        ZipVoiceTokenizer.Result tt = ZipVoiceTokenizer.tokens(Chunks.addPunctuation(r.text()), o.lang(), o.devoice());
        Map<String, Integer> unread = new LinkedHashMap<>(pt.oov());
        tt.oov().forEach((k, v) -> unread.merge(k, v, Integer::sum));
        Map<String, Integer> unknown = new LinkedHashMap<>();
        for (String t : pt.tokens()) if (!table.contains(t)) unknown.merge(t, 1, Integer::sum);
        for (String t : tt.tokens()) if (!table.contains(t)) unknown.merge(t, 1, Integer::sum);
        int[] promptIds = table.ids(pt.tokens()).ids();
        if (promptIds.length == 0) throw new IllegalArgumentException("prompt text: no token of it is in " + table.source());
        double promptSeconds = promptAudio == null ? Double.NaN : promptAudio.length / (double) SAMPLE_RATE;
        List<int[]> ids = new ArrayList<>();
        int chunks = 1;
        if (promptAudio != null) {
            double tokenSeconds = promptSeconds / (pt.tokens().size() * o.sampler().speed());
            int maxTokens = (int) ((CHUNK_SECONDS - promptSeconds) / tokenSeconds);
            if (maxTokens <= 0) {
                throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "the prompt is %.1f s after silence removal; "
                        + "it must be well under %.0f s (1–3 s is recommended)", promptSeconds, CHUNK_SECONDS));
            }
            for (List<String> c : Chunks.byPunctuation(tt.tokens(), maxTokens)) {
                int[] cid = table.ids(c).ids();
                if (cid.length > 0) ids.add(cid);
            }
            chunks = ids.size();
            if (ids.isEmpty()) throw new IllegalArgumentException("text: no token of it is in " + table.source());
        }
        Report rep = new Report(pt.tokens(), tt.tokens(), tt.language(), unread, unknown, chunks, 0, promptSeconds);
        return new Prepared(rep, ids, promptIds, promptAudio, 0f);
    }

    /** The prompt as upstream prepares it: mono 24 kHz, silences removed (+200 ms), and its RMS before raising. */
    public static float[][] preparePrompt(Audio prompt) {
        float[] mono = prompt.mono().channel(0);
        if (prompt.sampleRate() != SAMPLE_RATE) mono = Resampler.resample(mono, prompt.sampleRate(), SAMPLE_RATE);
        mono = Silence.remove(mono, SAMPLE_RATE, false, 200);
        double sum = 0;
        for (float v : mono) sum += (double) v * v;
        float rms = (float) Math.sqrt(sum / Math.max(1, mono.length));
        if (rms < TARGET_RMS && rms > 0) for (int i = 0; i < mono.length; i++) mono[i] = mono[i] * TARGET_RMS / rms;
        return new float[][] {mono, {rms}};
    }

    public Result synthesize(Request r, Options o, Listener listener) {
        float[][] p = preparePrompt(r.prompt());
        float[] prompt = p[0];
        float promptRms = p[1][0];
        if (prompt.length < VocosFbank.HOP) throw new IllegalArgumentException("the prompt recording is silent or shorter than a frame");
        Prepared prep = prepare(r, o, prompt);
        float[] feats = fbank.extract(prompt, SAMPLE_RATE);
        int f = VocosFbank.N_MELS, frames = feats.length / f;
        INDArray promptFeatures = Nd4j.create(feats, new long[] {1, frames, f}, 'c').muli(ZipVoiceModel.FEAT_SCALE);
        double promptSeconds = prompt.length / (double) SAMPLE_RATE;
        double tokenSeconds = promptSeconds / (prep.report().promptTokens().size() * o.sampler().speed());
        List<Chunks.Batch> batches = Chunks.batches(prep.chunkIds(), MAX_BATCH_SECONDS, promptSeconds, tokenSeconds);
        GaussianNoise noise = GaussianNoise.seeded(o.seed());
        int n = prep.chunkIds().size();
        if (listener != null) listener.started(n);
        float[][] wavs = new float[n][];
        int next = 0;
        for (Chunks.Batch batch : batches) {
            int b = batch.indices().size();
            int[][] toks = new int[b][], ptoks = new int[b][];
            int[] pf = new int[b];
            for (int i = 0; i < b; i++) {
                toks[i] = prep.chunkIds().get(batch.indices().get(i));
                ptoks[i] = prep.promptIds();
                pf[i] = frames;
            }
            INDArray pfeat = Nd4j.concat(0, java.util.Collections.nCopies(b, promptFeatures).toArray(new INDArray[0]));
            ZipVoiceModel.Sample s = model.sample(ptoks, toks, pfeat, pf, o.sampler(), noise, null);
            for (int i = 0; i < b; i++) {
                INDArray gen = s.generated(i).div(ZipVoiceModel.FEAT_SCALE);             // [Tg, feat]
                float[] wav = vocoder.decode(gen.transpose().reshape(1, f, gen.size(0)).dup('c')).castTo(DataType.FLOAT).toFloatVector();
                for (int k = 0; k < wav.length; k++) {
                    float v = Math.max(-1f, Math.min(1f, wav[k]));
                    wav[k] = promptRms < TARGET_RMS ? v * promptRms / TARGET_RMS : v;
                }
                wavs[batch.indices().get(i)] = wav;
            }
            while (next < n && wavs[next] != null) {
                if (listener != null) listener.chunk(next, n, wavs[next]);
                next++;
            }
        }
        List<float[]> ordered = new ArrayList<>(List.of(wavs));
        float[] out = Chunks.crossFade(ordered, (int) (FADE_SECONDS * SAMPLE_RATE));
        out = Silence.remove(out, SAMPLE_RATE, !o.removeLongSilence(), 0);
        Report rep = prep.report();
        rep = new Report(rep.promptTokens(), rep.textTokens(), rep.language(), rep.unreadWords(), rep.unknownTokens(), n, batches.size(),
                promptSeconds);
        return new Result(out, rep);
    }
}
