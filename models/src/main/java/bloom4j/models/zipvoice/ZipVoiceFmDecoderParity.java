package bloom4j.models.zipvoice;

import bloom4j.models.GaussianNoise;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;

/**
 * Parity kind {@code zipvoice-fm-decoder}: upstream {@code ZipVoice} on the fixture's tiny random model, loaded from its folder
 * ({@code model.pt}, {@code model.json}, {@code tokens.txt}) as {@code bloom4j tts} loads one: one {@code forward_fm_decoder} call
 * with every stack's output, the text encoder and the average-upsampled text condition, and the whole {@code sample()} (each
 * step's raw output, guided velocity and state) from the recorded x0.
 */
public final class ZipVoiceFmDecoderParity implements ParityKind {

    @Override public String kind() { return "zipvoice-fm-decoder"; }

    @Override public String description() {
        return "ZipVoice TTSZipformer FM decoder (per stack), text encoder, text condition and the Euler sampler with CFG";
    }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        ZipVoiceModel model = ZipVoiceModel.load(f.dir());

        ZipVoiceModel.FmTrace tr = model.traceVelocity(f.tensor("fm.x"), f.tensor("fm.text_condition"), f.tensor("fm.speech_condition"),
                f.tensor("fm.t"), f.tensor("fm.padding_mask"), null);
        report.compare("fm.t_sinusoid", tr.timeSinusoid(), f.tensor("fm.t_sinusoid"));
        report.compare("fm.act.time_embed", tr.timeEmbed(), f.tensor("fm.act.time_embed"));
        report.compare("fm.act.in_proj", tr.inProj(), f.tensor("fm.act.in_proj"));
        for (int i = 0; i < tr.stacks().size(); i++) report.compare("fm.act.stack" + i, tr.stacks().get(i), f.tensor("fm.act.stack" + i));
        report.compare("fm.v", tr.velocity(), f.tensor("fm.v"));

        int[][] promptTokens = rows(f.tensor("sample.prompt_tokens"), f.tensor("sample.prompt_tokens_lens"));
        int[][] tokens = rows(f.tensor("sample.tokens"), f.tensor("sample.tokens_lens"));
        int[][] cat = rows(f.tensor("text.tokens_padded"), f.tensor("text.tokens_lens"));
        ZipVoiceModel.TextEncoding enc = model.encodeText(cat);
        report.compare("text.embed", enc.embedded(), f.tensor("text.embed"));
        report.compare("text.encoder_out", enc.encoded(), f.tensor("text.encoder_out"));
        int[] promptFrames = ints(f.tensor("sample.prompt_features_lens"));
        float speed = f.tensor("sample.speed").getFloat(0);
        int[] frames = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            frames[i] = ZipVoiceModel.predictedFrames(promptFrames[i], promptTokens[i].length, tokens[i].length, speed);
        }
        report.compare("text.features_lens", Nd4j.createFromArray(frames).castTo(DataType.INT64), f.tensor("text.features_lens"));
        ZipVoiceModel.TextCondition tc = ZipVoiceModel.textCondition(enc.encoded(), enc.lengths(), frames);
        report.compare("text.condition", tc.condition(), f.tensor("text.condition"));
        report.compare("text.condition_padding_mask", tc.padMask().castTo(DataType.INT64), f.tensor("text.condition_padding_mask"));

        ZipVoiceModel.SamplerOptions o = new ZipVoiceModel.SamplerOptions(f.tensor("sample.num_step").getInt(0),
                f.tensor("sample.guidance_scale").getFloat(0), f.tensor("sample.t_shift").getFloat(0), speed);
        report.compare("sample.timesteps", Nd4j.create(ZipVoiceModel.timesteps(o.numStep(), o.tShift())), f.tensor("sample.timesteps"));
        List<INDArray> raw = new ArrayList<>(), vs = new ArrayList<>(), xs = new ArrayList<>();
        ZipVoiceModel.Sample s = model.sample(promptTokens, tokens, f.tensor("sample.prompt_features"), promptFrames, o,
                GaussianNoise.replay(List.of(f.tensor("sample.x0"))), (i, t, out, v, x) -> {
                    raw.add(out);
                    vs.add(v);
                    xs.add(x);
                });
        xs.add(s.x1());
        report.compare("sample.text_condition", s.textCondition(), f.tensor("sample.text_condition"));
        report.compare("sample.speech_condition", s.speechCondition(), f.tensor("sample.speech_condition"));
        report.compare("sample.padding_mask", s.padMask().castTo(DataType.INT64), f.tensor("sample.padding_mask"));
        report.compare("sample.model_out_steps", Nd4j.stack(0, raw.toArray(new INDArray[0])), f.tensor("sample.model_out_steps"));
        report.compare("sample.v_steps", Nd4j.stack(0, vs.toArray(new INDArray[0])), f.tensor("sample.v_steps"));
        report.compare("sample.x_steps", Nd4j.stack(0, xs.toArray(new INDArray[0])), f.tensor("sample.x_steps"));
        report.compare("sample.x1", s.x1(), f.tensor("sample.x1"));
        int b = tokens.length, gen = 0, pMax = 0;
        int[] genLens = new int[b];
        for (int i = 0; i < b; i++) {
            genLens[i] = s.totalFrames()[i] - s.promptFrames()[i];
            gen = Math.max(gen, genLens[i]);
            pMax = Math.max(pMax, s.promptFrames()[i]);
        }
        INDArray wo = Nd4j.zeros(DataType.FLOAT, b, gen, model.config().featDim());
        INDArray prompt = Nd4j.zeros(DataType.FLOAT, b, pMax, model.config().featDim());
        for (int i = 0; i < b; i++) {
            wo.get(NDArrayIndex.point(i), NDArrayIndex.interval(0, genLens[i]), NDArrayIndex.all()).assign(s.generated(i));
            prompt.get(NDArrayIndex.point(i), NDArrayIndex.interval(0, s.promptFrames()[i]), NDArrayIndex.all()).assign(s.prompt(i));
        }
        report.compare("sample.x1_wo_prompt", wo, f.tensor("sample.x1_wo_prompt"));
        report.compare("sample.x1_wo_prompt_lens", Nd4j.createFromArray(genLens).castTo(DataType.INT64), f.tensor("sample.x1_wo_prompt_lens"));
        report.compare("sample.x1_prompt", prompt, f.tensor("sample.x1_prompt"));
    }

    /** Row {@code i} of a padded id matrix, cut to {@code lens[i]}. */
    static int[][] rows(INDArray padded, INDArray lens) {
        long[][] m = padded.castTo(DataType.INT64).toLongMatrix();
        int[][] out = new int[m.length][];
        for (int i = 0; i < m.length; i++) {
            out[i] = new int[lens.getInt(i)];
            for (int j = 0; j < out[i].length; j++) out[i][j] = Math.toIntExact(m[i][j]);
        }
        return out;
    }

    static int[] ints(INDArray a) { return a.castTo(DataType.INT32).toIntVector(); }
}
