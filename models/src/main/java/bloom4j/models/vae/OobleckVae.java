package bloom4j.models.vae;

import bloom4j.models.GaussianNoise;
import bloom4j.nn.Conv1d;
import bloom4j.nn.ConvTranspose1d;
import bloom4j.nn.Graphs;
import bloom4j.nn.Init;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Params;
import bloom4j.nn.Scope;
import bloom4j.nn.SnakeBeta;
import bloom4j.tensor.io.TensorSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Oobleck variational autoencoder of stable-audio-tools, as vendored by SongBloom (tencent-ailab/SongBloom@ef78022,
 * {@code SongBloom/models/vae_frontend/autoencoders.py} L49-250 and L142-270, {@code bottleneck.py} L113-142; descript-audio-codec
 * 1.0.0 {@code WNConv1d}/{@code WNConvTranspose1d}).
 *
 * <pre>
 *   encoder: Conv(io→C, k7) · EncoderBlock×depth · Snake · Conv(→2L, k3)
 *            EncoderBlock(cin→cout, s) = Res(cin, d=1) · Res(d=3) · Res(d=9) · Snake · Conv(k=2s, stride s, pad ceil(s/2))
 *   bottleneck (VAE): mean, scale = chunk(out, 2, channels); std = softplus(scale) + 1e-4; latent = ε·std + mean
 *   decoder: Conv(L→C·m_last, k7) · DecoderBlock×depth · Snake · Conv(→io, k7, no bias) [· tanh]
 *            DecoderBlock(cin→cout, s) = Snake · ConvT(k=2s, stride s, pad ceil(s/2)) · Res(d=1) · Res(d=3) · Res(d=9)
 *   Res(c, d) = x + Conv1x1(Snake(Conv(k7, dilation d, pad 3d)(Snake(x))))
 * </pre>
 * Every convolution is weight-normed in the checkpoint ({@code weight_g}, {@code weight_v}); the pairs are folded into plain
 * weights at load ({@link bloom4j.nn.WeightNorm}). Parameter names are the checkpoint's ({@code encoder.layers.1.layers.4.weight_v})
 * under a prefix: none for a stable-audio {@code autoencoder.ckpt} state dict, {@code vae.vae.} inside a SongBloom {@code .pt}.
 *
 * <p>Two SameDiff graphs (encoder, decoder), each with a dynamic batch and length, built from {@code bloom4j.nn} layers, rather
 * than eager ND4J calls: the same layers serve training elsewhere, and eager code would run the same native kernels. Measured on
 * the released decoder (500 graph ops, one 64-latent call of 12.4 s on 2 threads): conv1d 67 %, deconv2d 13 %, the SnakeBeta
 * element-wise ops 18 %; SameDiff's per-op cost (tens of µs) is below 0.5 %. The bottleneck runs eagerly in Java, with its
 * noise from a {@link GaussianNoise}.
 *
 * <p>Activations: audio {@code [B, io, N]}, encoder output {@code [B, 2L, N/ratio]}, latents {@code [B, L, T]}, FLOAT.
 */
public final class OobleckVae {
    private final OobleckConfig config;
    private final SameDiff encoder;          // null when loaded decoder-only
    private final SDVariable encoderOut;
    private final SameDiff decoder;
    private final SDVariable decoderOut;
    private final Map<Integer, SDVariable> decoderLayers;

    private OobleckVae(OobleckConfig config, SameDiff encoder, SDVariable encoderOut, SameDiff decoder, SDVariable decoderOut,
                       Map<Integer, SDVariable> decoderLayers) {
        this.config = config;
        this.encoder = encoder;
        this.encoderOut = encoderOut;
        this.decoder = decoder;
        this.decoderOut = decoderOut;
        this.decoderLayers = decoderLayers;
    }

    /** What to build: both halves, or only the decoder (generation with precomputed prompt latents needs no encoder). */
    public enum Parts { ALL, DECODER }

    /**
     * Loads the autoencoder stored under {@code prefix} ("" or "vae.vae."; see {@link #detectPrefix}) of {@code source}. Every
     * tensor of the loaded halves under the prefix must be used, and every expected one present; the error lists the rest.
     */
    /**
     * Loads a VAE model folder ({@code bloom4j convert --model vae --config vae_config.json}: model_type "vae", the stable-audio
     * JSON config under {@code upstream_config}); the key prefix is detected ({@link #detectPrefix}).
     */
    public static OobleckVae load(bloom4j.tensor.io.ModelFolder folder, Parts parts) throws java.io.IOException {
        folder.requireType("vae");
        OobleckConfig config = OobleckConfig.fromJson(folder.requireUpstream("the VAE's channels, strides and latent size are not "
                + "all in the weights", "vae_config.json"));
        try (TensorSource src = folder.openWeights()) {
            return load(src, detectPrefix(src), config, parts);
        }
    }

    public static OobleckVae load(TensorSource source, String prefix, OobleckConfig config, Parts parts) {
        return create(ParamSource.of(source), LoadOptions.inference().deferMissing(true), prefix, config, parts, true);
    }

    /**
     * A VAE with random weights (PyTorch's default convolution init, kaiming-uniform with a = √5; zero biases; SnakeBeta α = β = 0,
     * i.e. upstream's initial values), for benchmarks and tests that need real-size shapes without a checkpoint.
     */
    public static OobleckVae random(OobleckConfig config, Parts parts, long seed) {
        Init kaiming = Init.kaimingUniform(Math.sqrt(5), seed);
        Init rule = Init.named("kaiming_uniform(a=sqrt 5) / zeros", (k, shape, dt) -> shape.length >= 2
                ? kaiming.create(k, shape, dt) : Init.zeros().create(k, shape, dt));
        return create(ParamSource.empty(), LoadOptions.inference().initMissing(rule), "", config, parts, false);
    }

    /** A VAE whose every parameter is made by {@code rule} (which may record them, to write the model out). */
    public static OobleckVae random(OobleckConfig config, Parts parts, Init rule) {
        return create(ParamSource.empty(), LoadOptions.inference().initMissing(rule), "", config, parts, false);
    }

    private static OobleckVae create(ParamSource ps, LoadOptions options, String prefix, OobleckConfig config, Parts parts,
                                     boolean checkComplete) {
        SameDiff enc = null;
        SDVariable encOut = null;
        List<Params> all = new ArrayList<>();
        if (parts == Parts.ALL) {
            enc = Graphs.create();
            Scope s = scope(enc, ps, options, prefix);
            all.add(s.params());
            SDVariable x = enc.placeHolder("audio", DataType.FLOAT, -1, config.ioChannels(), -1);
            encOut = buildEncoder(s.pp("encoder"), config, x);
        }
        SameDiff dec = Graphs.create();
        Scope s = scope(dec, ps, options, prefix);
        all.add(s.params());
        SDVariable z = dec.placeHolder("latent", DataType.FLOAT, -1, config.latentDim(), -1);
        Map<Integer, SDVariable> layers = new LinkedHashMap<>();
        SDVariable decOut = buildDecoder(s.pp("decoder"), config, z, layers);
        if (checkComplete) requireComplete(ps, prefix, parts, all);
        return new OobleckVae(config, enc, encOut, dec, decOut, layers);
    }

    private static Scope scope(SameDiff sd, ParamSource ps, LoadOptions options, String prefix) {
        Scope root = Scope.root(sd, ps, options);
        return prefix.isEmpty() ? root : root.pp(prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix);
    }

    /** "vae.vae." for a SongBloom checkpoint, "autoencoder." for a wrapped one, "" for a bare stable-audio state dict. */
    public static String detectPrefix(TensorSource source) {
        for (String p : new String[] {"vae.vae.", "autoencoder.", ""}) {
            if (source.contains(p + "decoder.layers.0.weight_v") || source.contains(p + "decoder.layers.0.weight")) return p;
        }
        throw new IllegalArgumentException(source.description() + " holds no Oobleck decoder: expected 'decoder.layers.0.weight_v' "
                + "(stable-audio autoencoder.ckpt) or 'vae.vae.decoder.layers.0.weight_v' (SongBloom .pt)");
    }

    private static void requireComplete(ParamSource source, String prefix, Parts parts, List<Params> all) {
        Map<String, long[]> missing = new LinkedHashMap<>();
        java.util.Set<String> consumed = new java.util.HashSet<>();
        for (Params p : all) {
            missing.putAll(p.missing());
            consumed.addAll(p.consumed());
        }
        List<String> unused = new ArrayList<>();
        for (String k : source.keys()) {
            boolean mine = k.startsWith(prefix + "decoder.") || (parts == Parts.ALL && k.startsWith(prefix + "encoder."));
            if (mine && !consumed.contains(k)) unused.add(k);
        }
        Params.requireComplete("the Oobleck VAE in " + source.description() + " (prefix '" + prefix + "')", missing, unused,
                source::shape, "check the VAE JSON config (channels, c_mults, strides, latent_dim)");
    }

    private static SDVariable conv(Scope s, int in, int out, int k, int stride, int pad, int dil, boolean bias, SDVariable x) {
        return Conv1d.load(s, in, out, k, stride, pad, dil, bias).forward(x);
    }

    private static SDVariable snake(Scope s, int c, SDVariable x) { return SnakeBeta.load(s, c).forward(x); }

    /** ResidualUnit(c, dilation): {@code x + layers.3(layers.2(layers.1(layers.0(x))))}. */
    private static SDVariable residual(Scope s, int c, int dilation, SDVariable x) {
        SDVariable h = snake(s.pp("layers.0"), c, x);
        h = conv(s.pp("layers.1"), c, c, 7, 1, 3 * dilation, dilation, true, h);
        h = snake(s.pp("layers.2"), c, h);
        h = conv(s.pp("layers.3"), c, c, 1, 1, 0, 1, true, h);
        return x.add(h);
    }

    private static SDVariable buildEncoder(Scope s, OobleckConfig c, SDVariable x) {
        Scope layers = s.pp("layers");
        SDVariable h = conv(layers.pp(0), c.ioChannels(), c.blockIn(0), 7, 1, 3, 1, true, x);
        for (int i = 0; i < c.depth(); i++) {
            Scope b = layers.pp(i + 1).pp("layers");
            int cin = c.blockIn(i), cout = c.blockOut(i), st = c.strides().get(i);
            h = residual(b.pp(0), cin, 1, h);
            h = residual(b.pp(1), cin, 3, h);
            h = residual(b.pp(2), cin, 9, h);
            h = snake(b.pp(3), cin, h);
            h = conv(b.pp(4), cin, cout, 2 * st, st, (st + 1) / 2, 1, true, h);
        }
        int last = c.blockOut(c.depth() - 1);
        h = snake(layers.pp(c.depth() + 1), last, h);
        return conv(layers.pp(c.depth() + 2), last, 2 * c.latentDim(), 3, 1, 1, 1, true, h);
    }

    private static SDVariable buildDecoder(Scope s, OobleckConfig c, SDVariable z, Map<Integer, SDVariable> outs) {
        Scope layers = s.pp("layers");
        int depth = c.depth();
        SDVariable h = conv(layers.pp(0), c.latentDim(), c.blockOut(depth - 1), 7, 1, 3, 1, true, z);
        outs.put(0, h);
        for (int j = 0; j < depth; j++) {
            int i = depth - 1 - j;                                            // encoder block mirrored
            Scope b = layers.pp(j + 1).pp("layers");
            int cin = c.blockOut(i), cout = c.blockIn(i), st = c.strides().get(i);
            h = snake(b.pp(0), cin, h);
            h = ConvTranspose1d.load(b.pp(1), cin, cout, 2 * st, st, (st + 1) / 2, true).forward(h);
            h = residual(b.pp(2), cout, 1, h);
            h = residual(b.pp(3), cout, 3, h);
            h = residual(b.pp(4), cout, 9, h);
            outs.put(j + 1, h);
        }
        h = snake(layers.pp(depth + 1), c.channels(), h);
        h = conv(layers.pp(depth + 2), c.channels(), c.ioChannels(), 7, 1, 3, 1, false, h);
        if (c.finalTanh()) h = z.getSameDiff().math.tanh(h);
        return h;
    }

    public OobleckConfig config() { return config; }

    /** The encoder's output {@code [B, 2L, T]} for audio {@code [B, io, N]}. */
    public INDArray encoderOutput(INDArray audio) {
        if (encoder == null) throw new IllegalStateException("this VAE was loaded decoder-only (Parts.DECODER)");
        requireShape(audio, config.ioChannels(), "audio");
        return encoder.output(Map.of("audio", audio.castTo(DataType.FLOAT)), encoderOut.name()).get(encoderOut.name());
    }

    /**
     * {@link #encoderOutput} of a long signal {@code [1, io, N]} in windows of {@code chunkFrames} latent frames, each encoded with
     * {@code contextFrames} frames of real audio on both sides that are then dropped, so memory stays bounded (a 3-minute song in one
     * pass needs tens of GB of activations). The audio is first cut to whole frames ({@code N − N mod ratio}). Away from the song's
     * edges a window sees the same samples as a single pass within the encoder's receptive field; with enough context the output
     * equals the single pass up to float rounding (checked in OobleckVaeTest). Output {@code [1, 2L, N / ratio]}.
     */
    public INDArray encoderOutputChunked(INDArray audio, int chunkFrames, int contextFrames) {
        requireShape(audio, config.ioChannels(), "audio");
        if (audio.size(0) != 1) throw new IllegalArgumentException("chunked encoding takes one signal, got a batch of " + audio.size(0));
        if (chunkFrames < 1 || contextFrames < 0) throw new IllegalArgumentException("need chunk >= 1 and context >= 0 frames");
        long r = config.downsamplingRatio();
        long frames = audio.size(2) / r;
        if (frames == 0) throw new IllegalArgumentException("audio of " + audio.size(2) + " samples is shorter than one latent frame (" + r + ")");
        if (frames <= chunkFrames + 2L * contextFrames) {
            return encoderOutput(audio.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, frames * r)).dup('c'));
        }
        List<INDArray> parts = new java.util.ArrayList<>();
        for (long s = 0; s < frames; s += chunkFrames) {
            long e = Math.min(frames, s + chunkFrames);
            long from = Math.max(0, s - contextFrames), to = Math.min(frames, e + contextFrames);
            INDArray win = audio.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(from * r, to * r)).dup('c');
            INDArray out = encoderOutput(win);
            parts.add(out.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(s - from, s - from + (e - s))).dup('c'));
        }
        return Nd4j.concat(2, parts.toArray(new INDArray[0]));
    }

    /** Encoder output, its halves and the sampled latent. */
    public record Encoded(INDArray encoderOutput, INDArray mean, INDArray scale, INDArray latent) { }

    /** {@link #encoderOutput} then the VAE bottleneck with {@code ε} from {@code noise} (one draw of the mean's shape). */
    public Encoded encode(INDArray audio, GaussianNoise noise) {
        INDArray out = encoderOutput(audio);
        return bottleneck(out, noise);
    }

    /**
     * {@code VAEBottleneck.encode}: {@code mean, scale = out.chunk(2, dim=1)}; {@code std = softplus(scale) + 1e-4};
     * {@code latent = ε·std + mean}, in float32 as upstream (softplus with torch's threshold 20).
     */
    public Encoded bottleneck(INDArray out, GaussianNoise noise) {
        long l = config.latentDim();
        INDArray mean = out.get(NDArrayIndex.all(), NDArrayIndex.interval(0, l), NDArrayIndex.all()).dup('c');
        INDArray scale = out.get(NDArrayIndex.all(), NDArrayIndex.interval(l, 2 * l), NDArrayIndex.all()).dup('c');
        INDArray eps = noise.next(mean.shape());
        float[] m = mean.data().asFloat(), sc = scale.data().asFloat(), e = eps.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[] z = new float[m.length];
        for (int i = 0; i < z.length; i++) {
            float x = sc[i];
            float sp = x > 20f ? x : (float) Math.log1p(Math.exp(x));        // F.softplus(beta=1, threshold=20)
            float std = sp + 1e-4f;
            z[i] = e[i] * std + m[i];
        }
        return new Encoded(out, mean, scale, Nd4j.create(z, mean.shape(), 'c'));
    }

    /** {@code AudioAutoencoder.decode}: latents {@code [B, L, T]} to audio {@code [B, io, T·ratio]} in one pass. */
    public INDArray decode(INDArray latent) {
        requireShape(latent, config.latentDim(), "latent");
        return decoder.output(Map.of("latent", latent.castTo(DataType.FLOAT)), decoderOut.name()).get(decoderOut.name());
    }

    /** The output of {@code decoder.layers.<index>} (0 = the input conv, 1..depth = decoder blocks), for debugging. */
    public INDArray decoderLayer(INDArray latent, int index) {
        SDVariable v = decoderLayers.get(index);
        if (v == null) throw new IllegalArgumentException("no decoder layer " + index + "; have " + decoderLayers.keySet());
        return decoder.output(Map.of("latent", latent.castTo(DataType.FLOAT)), v.name()).get(v.name());
    }

    /**
     * {@code AudioAutoencoder.decode_audio(chunked=True)}: chunks of {@code chunkSize} latents starting at 0, hop, 2·hop, …
     * (hop = chunkSize − overlap) while a whole chunk fits, plus a final chunk {@code latents[..., −chunkSize:]} when the last
     * one did not end at T; each decoded alone and pasted into the output with {@code (overlap/2)·ratio} samples trimmed at every
     * internal edge, the final chunk right-aligned.
     *
     * <p>Deviation: when {@code T < chunkSize} upstream fails (its loop variable is unset; open PR #38); here the latents are
     * decoded in one pass, which is what a single chunk covering everything means. {@code T == chunkSize} is one chunk upstream
     * too, so the two agree there.
     */
    public INDArray decodeChunked(INDArray latent, int chunkSize, int overlap) {
        requireShape(latent, config.latentDim(), "latent");
        if (chunkSize < 1 || overlap < 0 || overlap >= chunkSize) {
            throw new IllegalArgumentException("need 0 <= overlap < chunkSize, got chunk " + chunkSize + ", overlap " + overlap);
        }
        long total = latent.size(2);
        if (total <= chunkSize) return decode(latent);
        int hop = chunkSize - overlap;
        List<Long> starts = new ArrayList<>();
        long i = 0;
        for (long s = 0; s <= total - chunkSize; s += hop) {
            starts.add(s);
            i = s;
        }
        if (i + chunkSize != total) starts.add(total - chunkSize);
        long ratio = config.downsamplingRatio();
        long ySize = total * ratio;
        INDArray y = Nd4j.zeros(DataType.FLOAT, latent.size(0), config.ioChannels(), ySize);
        long ol = (overlap / 2) * ratio;
        int n = starts.size();
        for (int c = 0; c < n; c++) {
            long s0 = starts.get(c);
            INDArray chunk = latent.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(s0, s0 + chunkSize)).dup('c');
            INDArray yc = decode(chunk);
            long len = yc.size(2);
            long tStart, tEnd;
            if (c == n - 1) {
                tEnd = ySize;
                tStart = tEnd - len;
            } else {
                tStart = (long) c * hop * ratio;
                tEnd = tStart + (long) chunkSize * ratio;
            }
            long cStart = 0, cEnd = len;
            if (c > 0) {
                tStart += ol;
                cStart += ol;
            }
            if (c < n - 1) {
                tEnd -= ol;
                cEnd -= ol;
            }
            y.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(tStart, tEnd))
                    .assign(yc.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(cStart, cEnd)));
        }
        return y;
    }

    private static void requireShape(INDArray a, long channels, String what) {
        if (a.rank() != 3 || a.size(1) != channels) {
            throw new IllegalArgumentException(what + " must be [batch, " + channels + ", length], got " + Arrays.toString(a.shape()));
        }
    }
}
