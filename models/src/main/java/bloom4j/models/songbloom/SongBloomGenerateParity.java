package bloom4j.models.songbloom;

import bloom4j.models.GaussianNoise;
import bloom4j.models.vae.OobleckConfig;
import bloom4j.models.vae.StableVae;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import com.fasterxml.jackson.databind.JsonNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;

/**
 * Parity kind {@code songbloom-generate}: a whole {@code MVSA_DiTAR.generate} run ({@link SongBloomModel}) on the fixture's tiny
 * random SongBloom, with the recorded VAE-bottleneck and per-block noise replayed: conditions (lyric ids, prompt encoder output,
 * sampled prompt latent, both condition tensors), every token step (raw classifier output of the CFG pair, scaled logits), every
 * sampled block (tokens, DiT result, the embeddings it appends), every DiT call (x, t, h, v) and the final token and latent
 * sequences. The fixture's top-k is 1, so the multinomial noise cannot matter and a seeded source is used.
 */
public final class SongBloomGenerateParity implements ParityKind {

    @Override public String kind() { return "songbloom-generate"; }

    @Override public String description() {
        return "SongBloom generation loop: prompt VAE encode, conditions, CFG token steps, DiT per block, block_conv feedback, stop rule";
    }

    /** The model of a fixture: SongBloom config from fixture.json checked against the weights, VAE config from its vae_config. */
    static SongBloomModel load(Fixture f) throws Exception {
        try (TensorSource w = Checkpoints.open(f.checkpoint())) {
            return SongBloomModel.load(SongBloomConfig.resolve(f.config(), w), w, w, OobleckConfig.fromJson(f.config().path("vae_config")));
        }
    }

    /** The fixture's generate_params as settings. */
    static SongBloomModel.Settings settings(JsonNode p) {
        SamplingOptions o = new SamplingOptions((float) p.path("cfg_coef").asDouble(), p.path("use_sampling").asBoolean(true),
                (float) p.path("temp").asDouble(), p.path("top_k").asInt(), p.path("penalty_repeat").asBoolean(),
                p.path("penalty_window").asInt());
        return new SongBloomModel.Settings(o, p.path("steps").asInt(), p.path("diff_temp").asDouble(), p.path("cfg_coef").asDouble(),
                p.path("max_frames").asInt());
    }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        SongBloomModel m = load(f);
        SongBloomConfig c = m.config();
        JsonNode p = f.config().path("generate_params");

        TokenizedLyrics lyric = m.ar().lyricConditioner().tokenizer().tokenize(p.path("lyric").asText());
        report.compare("lyrics_token_ids", Nd4j.createFromArray(lyric.tokenIds()).castTo(DataType.LONG), f.tensor("lyrics_token_ids"));

        INDArray blockNoise = f.tensor("rng_block_noise");                              // [n, 1, S, L]
        List<INDArray> draws = new ArrayList<>();
        draws.add(f.tensor("rng_vae_randn"));
        for (long i = 0; i < blockNoise.size(0); i++) {
            draws.add(blockNoise.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()).dup('c'));
        }
        GaussianNoise gaussian = GaussianNoise.replay(draws);

        Recorder rec = new Recorder(m);
        float[] wav = f.tensor("prompt_wav").castTo(DataType.FLOAT).reshape(-1).toFloatVector();
        INDArray prefix = m.conditions(wav, lyric, gaussian, rec);
        INDArray encOut = f.tensor("vae_encoder_out");
        report.compare("vae_encoder_out[cond]", rec.encoderOutput, row(encOut, 0));
        INDArray nullOut = m.vae().vae().encoderOutput(StableVae.toVaeChannels(Nd4j.zeros(DataType.FLOAT, 1, wav.length),
                m.vae().vae().config().ioChannels()));
        report.compare("vae_encoder_out[null]", nullOut, row(encOut, 1));
        report.compare("prompt_latent[cond]", rec.promptLatent, row(f.tensor("prompt_latent"), 0));
        long pl = c.promptMaxLen(), total = prefix.size(1);
        report.compare("cond_prompt_wav", prefix.get(NDArrayIndex.all(), NDArrayIndex.interval(0, pl), NDArrayIndex.all()),
                f.tensor("cond_prompt_wav"));
        report.compare("cond_lyrics", prefix.get(NDArrayIndex.all(), NDArrayIndex.interval(pl, total), NDArrayIndex.all()),
                f.tensor("cond_lyrics"));

        SongBloomModel.Sketch sk = m.sketch(prefix, settings(p), gaussian, NoiseSource.seeded(0), rec);
        report.compare("step_classifier_out", Nd4j.stack(0, rec.classifier.toArray(new INDArray[0])), f.tensor("step_classifier_out"));
        report.compare("step_scaled_logits", Nd4j.stack(0, rec.scaled.toArray(new INDArray[0])), f.tensor("step_scaled_logits"));
        report.compare("blocks_tokens_all", Nd4j.stack(0, rec.tokens.toArray(new INDArray[0])), f.tensor("blocks_tokens_all"));
        report.compare("blocks_latent_all", Nd4j.stack(0, rec.latents.toArray(new INDArray[0])), f.tensor("blocks_latent_all"));
        report.compare("blocks_seq_all", Nd4j.stack(0, rec.seq.toArray(new INDArray[0])), f.tensor("blocks_seq_all"));
        report.compare("dit_calls_x", Nd4j.concat(0, rec.ditX.toArray(new INDArray[0])), f.tensor("dit_calls_x"));
        report.compare("dit_calls_t", Nd4j.createFromArray(toArray(rec.ditT)), f.tensor("dit_calls_t"));
        report.compare("dit_calls_h", Nd4j.stack(0, rec.ditH.toArray(new INDArray[0])), f.tensor("dit_calls_h"));
        report.compare("dit_calls_v", Nd4j.concat(0, rec.ditV.toArray(new INDArray[0])), f.tensor("dit_calls_v"));
        report.compare("token_seq", Nd4j.createFromArray(sk.tokens()).castTo(DataType.LONG).reshape(1, -1), f.tensor("token_seq"));
        report.compare("latent_seq", sk.latents().transpose().reshape(1, c.latentDim(), -1), f.tensor("latent_seq"));
        report.check("blocks sampled " + sk.blocksSampled() + " = recorded " + blockNoise.size(0), sk.blocksSampled() == blockNoise.size(0), "");

        INDArray audio = m.decode(sk.latents());
        long want = sk.latents().size(0) * m.vae().vae().config().downsamplingRatio();
        report.check("decoded audio [" + audio.size(0) + ", " + audio.size(1) + "] (io channels x T·ratio)",
                audio.size(0) == m.vae().vae().config().ioChannels() && audio.size(1) == want, "expected length " + want);
    }

    private static INDArray row(INDArray a, long i) {
        return a.get(NDArrayIndex.interval(i, i + 1), NDArrayIndex.all(), NDArrayIndex.all());
    }

    private static float[] toArray(List<Float> xs) {
        float[] out = new float[xs.size()];
        for (int i = 0; i < out.length; i++) out[i] = xs.get(i);
        return out;
    }

    /** Collects what the fixture recorded. */
    private static final class Recorder implements SongBloomModel.Observer {
        final SongBloomModel m;
        INDArray encoderOutput, promptLatent;
        final List<INDArray> classifier = new ArrayList<>(), scaled = new ArrayList<>(), tokens = new ArrayList<>(),
                latents = new ArrayList<>(), seq = new ArrayList<>(), ditX = new ArrayList<>(), ditH = new ArrayList<>(),
                ditV = new ArrayList<>();
        final List<Float> ditT = new ArrayList<>();

        Recorder(SongBloomModel m) { this.m = m; }

        @Override public void onPrompt(INDArray out, INDArray latents, INDArray cfgPrefix) {
            encoderOutput = out;
            promptLatent = latents;
        }

        @Override public void onToken(SketchGenerator.TokenEvent e) {
            classifier.add(e.classifierOut());
            scaled.add(Nd4j.create(e.step().scaledLogits(), new long[] {1, e.step().scaledLogits().length}, 'c'));
        }

        @Override public void onDitStep(int block, int step, INDArray x, float t, INDArray h, INDArray v) {
            ditX.add(x);
            ditT.add(t);
            ditH.add(h.reshape(-1));
            ditV.add(v);
        }

        @Override public void onBlock(SketchGenerator.Block b, INDArray z, boolean kept) {
            tokens.add(Nd4j.createFromArray(b.tokens()).castTo(DataType.LONG));
            latents.add(z);
            seq.add(Nd4j.concat(0, b.embeddings(), m.ar().blockConv(z)));
        }
    }
}
