package bloom4j.models.songbloom;

import bloom4j.models.llama.LlamaGraph;
import bloom4j.nn.Activation;
import bloom4j.nn.Graphs;
import bloom4j.nn.KvCache;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.Mlp;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Params;
import bloom4j.nn.Scope;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The autoregressive ("sketch") half of SongBloom: the LLaMA over {@code [prompt | lyrics | BOS, sketch tokens, block tokens]},
 * its sketch embedding and classifier, and {@code block_conv}, which turns a generated block of latents back into one AR token.
 *
 * <p>Paper: Yang et al., "SongBloom: Coherent Song Generation via Interleaved Autoregressive Sketching and Diffusion Refinement",
 * arXiv 2506.07634. Reference: tencent-ailab/SongBloom@ef78022, {@code SongBloom/models/songbloom/songbloom_mvsa.py}
 * ({@code MVSA_DiTAR.__init__} L58-174, {@code lm_forward} L276-304, {@code _sample_next_block} L355-487, {@code generate}
 * L491-554), the backbone being transformers' {@code LlamaModel}. Checkpoint: the flat state dict
 * of {@code songbloom_full_150s.pt} (or a bloom4j model folder converted from it), keys
 * <pre>
 *   model.ar_transformer.layers.N.*, model.ar_transformer.norm.weight      LLaMA (see {@link bloom4j.models.llama.LlamaDecoder})
 *   model.skeleton_emb.weight              [P + 2, D]      sketch codes 0..P-1, EOS = P, "special" = P + 1
 *   model.bos_token                        [D]
 *   model.skeleton_classifier.0.weight     [D, D]          Linear(no bias) -> SiLU -> Linear(P + 1)
 *   model.skeleton_classifier.2.weight     [P + 1, D] (+ bias)
 *   model.block_conv.1.weight              [D, S·latent] (+ bias)   Rearrange(b d (n s) -> b n (s d)) -> Linear -> SiLU -> Linear
 *   model.block_conv.3.weight              [D, D] (+ bias)
 *   model.condition_provider.conditioners.prompt_wav.*, .lyrics.*   see {@link PromptConditioner}, {@link LyricConditioner}
 * </pre>
 *
 * <p>One SameDiff graph holds everything that runs per token: the {@link LlamaGraph} (prefill and cached single-token decode with
 * the same weights), the classifier on each sequence's last position ({@link #lastLogits()}) and on every position
 * ({@link #logits()}), and {@code block_conv} on its own input placeholder. Embedding lookups, BOS and the conditioners run on the
 * Java side: they are row copies and one small product. Batch rows are independent sequences; generation uses 2, the CFG pair
 * (row 0 conditional, row 1 unconditional).
 */
public final class SongBloomAr {
    private final SongBloomConfig config;
    private final SketchVocabulary vocab;
    private final LlamaGraph lm;
    private final Mlp classifier;
    private final SDVariable lastLogits;    // [B, P + 1]
    private final SDVariable logits;        // [B·T, P + 1]
    private final SDVariable blockConvIn;   // [N, S·latent]
    private final SDVariable blockConvOut;  // [N, D]
    private final INDArray skeletonEmb;     // [P + 2, D]
    private final INDArray bosToken;        // [D]
    private final PromptConditioner prompt;
    private final LyricConditioner lyrics;
    private final Params params;

    private SongBloomAr(SongBloomConfig c, Scope root, long batch) throws SongBloomWeightException {
        this.config = c;
        this.vocab = c.sketchVocabulary();
        int d = c.dim();
        Scope m = root.pp("model");
        SameDiff sd = root.sd();

        lm = new LlamaGraph(m.pp("ar_transformer"), c.llama(), batch);
        classifier = classifier(m, c);
        lastLogits = classifier.forwardRows(lm.lastHidden()).rename(m.pp("skeleton_classifier").key("output.last"));
        logits = classifier.forwardRows(lm.hidden()).rename(m.pp("skeleton_classifier").key("output"));

        // block_conv's Rearrange("b d (n s) -> b n (s d)") is done by the caller's layout: one block [S, latent] flattened row-major.
        blockConvIn = sd.placeHolder(m.pp("block_conv").key("input"), root.dtype(), -1, c.blockConvIn());
        Mlp blockConv = blockConv(m, c);
        blockConvOut = blockConv.forwardRows(blockConvIn).rename(m.pp("block_conv").key("output"));

        skeletonEmb = m.pp("skeleton_emb").array("weight", vocab.embeddingRows(), d);
        bosToken = m.array("bos_token", d);
        prompt = PromptConditioner.load(root.pp(PromptConditioner.SCOPE), c.latentDim(), d, c.promptMaxLen());
        lyrics = LyricConditioner.load(root.pp(LyricConditioner.SCOPE), LyricVocabulary.released(), c.lyricsMaxLen());
        if (lyrics.maxSentencePerStructure() != c.maxSentencePerStructure() || lyrics.dim() != d) {
            throw new SongBloomWeightException(root.params().source().description() + ": the lyric sentence table has "
                    + lyrics.maxSentencePerStructure() + " rows of width " + lyrics.dim() + ", the config says max_sentence_per_structure "
                    + c.maxSentencePerStructure() + " and dim " + d);
        }
        this.params = root.params();
    }

    /** {@code skeleton_classifier}: Linear(D, D, no bias) → SiLU → Linear(D, P + 1), under the model scope {@code m}. */
    static Mlp classifier(Scope m, SongBloomConfig c) {
        return Mlp.load(m.pp("skeleton_classifier"), c.dim(), c.dim(), c.sketchVocabulary().classes(), Activation.SILU, "0", false, "2", true);
    }

    /** {@code block_conv} after its Rearrange: Linear(S·latent, D) → SiLU → Linear(D, D), under the model scope {@code m}. */
    static Mlp blockConv(Scope m, SongBloomConfig c) {
        return Mlp.load(m.pp("block_conv"), c.blockConvIn(), c.dim(), c.dim(), Activation.SILU, "1", true, "3", true);
    }

    /**
     * Loads the AR half from {@code source} (keys as in the released checkpoint; other keys, such as the DiT's and the VAE's, are left
     * alone) for {@code batch} sequences per call (2 for generation with CFG).
     */
    public static SongBloomAr load(SongBloomConfig c, ParamSource source, LoadOptions options, long batch) throws SongBloomWeightException {
        return new SongBloomAr(c, Scope.root(Graphs.create(), source, options), batch);
    }

    /** {@link #load(SongBloomConfig, ParamSource, LoadOptions, long)} for inference (FP32, frozen) with the CFG batch of 2. */
    public static SongBloomAr load(SongBloomConfig c, TensorSource source) throws SongBloomWeightException {
        return load(c, ParamSource.of(source), LoadOptions.inference(), 2);
    }

    /**
     * Loads a converted model folder: config.json with the upstream YAML under {@code upstream_config} (see
     * {@link SongBloomConfig#fromModelFolder}) and the weights.
     */
    public static SongBloomAr load(Path modelFolder) throws IOException {
        bloom4j.tensor.io.ModelFolder folder = bloom4j.tensor.io.ModelFolder.open(modelFolder);
        try (TensorSource src = folder.openWeights()) {
            return load(SongBloomConfig.fromModelFolder(folder, src), src);
        }
    }

    public SongBloomConfig config() { return config; }

    public SketchVocabulary vocabulary() { return vocab; }

    /** The backbone graph (placeholders, cache slots, hidden-state outputs). */
    public LlamaGraph lm() { return lm; }

    /** {@code skeleton_classifier} on each sequence's last position: {@code [B, P + 1]}. */
    public SDVariable lastLogits() { return lastLogits; }

    /** {@code skeleton_classifier} on every position: rows {@code [B·T, P + 1]}. */
    public SDVariable logits() { return logits; }

    public PromptConditioner promptConditioner() { return prompt; }

    public LyricConditioner lyricConditioner() { return lyrics; }

    /** What was loaded: consumed, initialised and unused keys (the DiT's and VAE's keys are unused here by design). */
    public Params params() { return params; }

    /** A cache for this model's batch, growing from {@code capacity} positions. */
    public KvCache newCache(int capacity) { return lm.newCache(capacity); }

    /** One prefill or decode call of the graph; see {@link LlamaGraph#run}. */
    public Map<String, INDArray> run(INDArray embeds, KvCache cache, String... outputs) { return lm.run(embeds, cache, outputs); }

    /** One single-token step, {@code [B, D]} in, {@code last_hidden_state [B, D]} out; see {@link LlamaGraph#decode}. */
    public INDArray decode(INDArray x, KvCache cache) { return lm.decode(x, cache); }

    /**
     * {@code skeleton_classifier} on hidden rows {@code [N, D]}: {@code [N, P + 1]}, eagerly over the graph's weights (the
     * same function as {@link #logits()}).
     */
    public INDArray classify(INDArray hidden) {
        INDArray w0 = classifier.up().weight().getArr(), w2 = classifier.down().weight().getArr();
        INDArray a = Nd4j.nn.swish(hidden.castTo(DataType.FLOAT).mmul(w0.transpose()));   // silu: [N, D]
        return a.mmul(w2.transpose()).addiRowVector(classifier.down().bias().getArr());   // [N, P + 1]
    }

    /** {@code bos_token} {@code [D]} (a copy). */
    public INDArray bos() { return bosToken.dup(); }

    /**
     * {@code skeleton_emb} rows of sketch tokens, {@code [n, D]}. Every token must be a code {@code 0..P-1} or EOS {@code P}
     * (upstream feeds the embedding of a sampled EOS too); anything else, e.g. a token from a VQ codebook of another size, is refused
     * with a {@link SketchTokenException} naming both sizes: never clamped.
     */
    public INDArray sketchEmbeddings(long... tokens) {
        vocab.requireTokens(tokens, true);
        INDArray out = Nd4j.create(DataType.FLOAT, tokens.length, config.dim());
        for (int i = 0; i < tokens.length; i++) out.putRow(i, skeletonEmb.getRow(tokens[i]));
        return out;
    }

    /**
     * {@code block_conv} of latent blocks {@code [n, S, latent]} (frames × channels, as the DiT returns them) or one block
     * {@code [S, latent]}: {@code [n, D]}, one AR token per block.
     */
    public INDArray blockConv(INDArray latents) {
        long n = latents.rank() == 2 ? 1 : latents.size(0);
        boolean fits = (latents.rank() == 2 || latents.rank() == 3) && latents.size(latents.rank() - 2) == config.blockSize()
                && latents.size(latents.rank() - 1) == config.latentDim();
        if (!fits) {
            throw new IllegalArgumentException("block_conv takes latent blocks [n, " + config.blockSize() + ", " + config.latentDim()
                    + "] (frames × channels), got " + Arrays.toString(latents.shape()));
        }
        INDArray rows = latents.castTo(DataType.FLOAT).dup('c').reshape(n, config.blockConvIn());   // feature index s·latent + d
        return blockConvIn.getSameDiff().output(Map.of(blockConvIn.name(), rows), blockConvOut.name()).get(blockConvOut.name());
    }

    /**
     * The condition prefix of the CFG pair, {@code [2, prompt_len + lyrics_len, D]}: {@code [prompt | lyrics]} (the fuser prepends
     * each condition in front of the previous one, so the prompt comes first whatever the config lists). Row 0 is
     * conditional, row 1 unconditional (zero prompt, null lyric).
     *
     * @param promptLatents VAE latents of the prompt {@code [frames, latent]}
     * @param lyric         tokenized lyric (see {@link LyricConditioner#tokenizer()})
     */
    public INDArray cfgPrefix(INDArray promptLatents, TokenizedLyrics lyric) {
        return prefix(prompt.cfgBatch(promptLatents), lyrics.cfgBatch(lyric));
    }

    /** {@code [prompt | lyrics]} along the time axis: {@code [B, Tp, D]} and {@code [B, Tl, D]} to {@code [B, Tp + Tl, D]}. */
    public static INDArray prefix(INDArray promptCondition, INDArray lyricsCondition) {
        return Nd4j.concat(1, promptCondition.castTo(DataType.FLOAT), lyricsCondition.castTo(DataType.FLOAT));
    }

    /** A streaming generator over the CFG pair with this prefix; see {@link SketchGenerator}. */
    public SketchGenerator generator(INDArray cfgPrefix, SketchSampler sampler, int maxFrames) {
        return new SketchGenerator(this, cfgPrefix, sampler, maxFrames);
    }
}
