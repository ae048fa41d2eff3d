package bloom4j.models.songbloom;

import bloom4j.nn.KvCache;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Streaming generation of sketch blocks with the KV cache, the AR half of upstream {@code MVSA_DiTAR.generate} and
 * {@code _sample_next_block} (tencent-ailab/SongBloom@ef78022, {@code songbloom_mvsa.py} L355-554), over the
 * CFG pair (row 0 conditional, row 1 unconditional).
 *
 * <p>Per block, {@link #nextBlock}: the pending input (BOS for the first block, then the {@code block_conv} token of the last kept
 * block; the condition prefix is prepended on the very first call only) is fed for both rows; then for k = 0..S-1 the classifier of
 * the last position gives the CFG pair of logits, the {@link SketchSampler} picks {@code s_k} (CFG on logits, repetition penalty from
 * the second block on, temperature, top-k, multinomial) and {@code skeleton_emb(s_k)} is fed next; one more step after {@code s_{S-1}}
 * gives {@code h}, the conditional row's last hidden state. The acoustic model (the DiT, another class) turns {@code h}, the S sketch
 * embeddings and the previous block's latents into the block's latents, which {@link #accept} compresses with {@code block_conv}
 * into the next pending input.
 *
 * <pre>{@code
 * SketchGenerator g = model.generator(model.cfgPrefix(promptLatents, lyric), sampler, maxFrames);
 * INDArray prev = zeros [S, latent];
 * while (true) {
 *     SketchGenerator.Block b = g.nextBlock(listener);
 *     INDArray z = dit.sample(b.h(), b.embeddings(), prev);   // upstream samples even the block it then discards
 *     if (!b.keep()) break;                                    // EOS in the block, or the sequence is long enough
 *     g.accept(z);
 *     prev = z;
 * }
 * }</pre>
 * or {@link #run} with an {@link AcousticModel}, which is that loop.
 *
 * <p>Stop rule, as upstream: a block is discarded when any of its tokens is EOS, or when the sequence it extends (BOS plus S + 1
 * positions per kept block) is already longer than {@code maxFrames / S · (S + 1)}; the block is sampled before that check, so with
 * {@code maxFrames = 4000} (the 150 s model: (150 + 10) s × 25 Hz) 250 blocks are kept and the 251st is sampled and dropped.
 *
 * <p>Compute: the first call (prefix + BOS, 851 positions for the released model) runs the graph, whose cached intermediates are
 * then freed; every later call is one token through the eager decode kernel ({@link SongBloomAr#decode}) and the eager classifier.
 * Memory: the KV cache is allocated up front for {@link #maxKeptBlocks()} + 1 blocks after the prefix (150 s model: 36 layers ×
 * K and V × 2 rows × 5134 positions × 1536 floats = 4.5 GB).
 *
 * <p>One generator per song; not thread-safe.
 */
public final class SketchGenerator {

    /** One sampled token: where, what, and the raw classifier output of the pair {@code [2, P + 1]} it came from. */
    public record TokenEvent(int block, int index, int token, INDArray classifierOut, SketchSampler.Step step) { }

    /** Called after every sampled token. */
    @FunctionalInterface
    public interface Listener {
        Listener NONE = e -> { };

        void onToken(TokenEvent event);
    }

    /**
     * One sampled block.
     *
     * @param index      0-based block number
     * @param tokens     the S sketch tokens
     * @param embeddings their {@code skeleton_emb} rows {@code [S, D]} (the DiT's {@code s})
     * @param h          the conditional row's last hidden state after the block's last token {@code [D]} (the DiT's {@code h};
     *                   upstream {@code dit_cfg_type = 'h'})
     * @param eos        some token is EOS
     * @param overLength the sequence was already long enough before this block (see the class comment)
     */
    public record Block(int index, int[] tokens, INDArray embeddings, INDArray h, boolean eos, boolean overLength) {
        public Block {
            tokens = tokens.clone();
        }

        @Override public int[] tokens() { return tokens.clone(); }

        /** Whether generation continues with this block ({@link #accept} it) or stops (and drops it). */
        public boolean keep() { return !eos && !overLength; }
    }

    /** The model that turns a block's sketch into latents {@code [S, latent]}: the DiT and its sampler. */
    @FunctionalInterface
    public interface AcousticModel {
        INDArray sample(Block block, INDArray previousLatents);
    }

    /**
     * What {@link #run} returns: the kept tokens and latents {@code [T, latent]} (frames × channels; one block of zeros when the first
     * block already ended, as upstream), and how many blocks were sampled (kept + the dropped one).
     */
    public record Result(int[] tokens, INDArray latents, int blocksSampled) { }

    private final SongBloomAr model;
    private final SketchSampler sampler;
    private final int maxFrames;
    private final int blockSize;
    private final INDArray prefix;              // [2, prefix, D], fed with the first input only
    private final KvCache cache;
    private final String logitsName;
    private final List<INDArray> keptLatents = new ArrayList<>();
    private int[] kept = new int[0];
    private INDArray pending;                   // [D]: the next input
    private Block last;
    private int blocks;
    private int sequenceLength = 1;             // upstream 'sequence': BOS + (S + 1) per kept block
    private boolean finished;

    SketchGenerator(SongBloomAr model, INDArray cfgPrefix, SketchSampler sampler, int maxFrames) {
        SongBloomConfig c = model.config();
        if (model.lm().batch() != 2) {
            throw new IllegalArgumentException("generation runs the CFG pair: load the model with batch 2, not " + model.lm().batch());
        }
        if (cfgPrefix.rank() != 3 || cfgPrefix.size(0) != 2 || cfgPrefix.size(2) != c.dim()) {
            throw new IllegalArgumentException("the condition prefix must be the CFG pair [2, T, " + c.dim() + "], got "
                    + Arrays.toString(cfgPrefix.shape()));
        }
        if (!sampler.vocabulary().equals(model.vocabulary())) {
            throw new IllegalArgumentException("the sampler's sketch vocabulary (" + sampler.vocabulary().numCodes() + " codes) is not "
                    + "the model's (" + model.vocabulary().numCodes() + " codes)");
        }
        if (maxFrames < 1) throw new IllegalArgumentException("maxFrames must be >= 1, got " + maxFrames);
        this.model = model;
        this.sampler = sampler;
        this.maxFrames = maxFrames;
        this.blockSize = c.blockSize();
        this.prefix = cfgPrefix.castTo(DataType.FLOAT);
        int positions = c.positionsPerBlock();
        long capacity = cfgPrefix.size(1) + (long) positions * (maxKeptBlocks() + 1);
        this.cache = model.newCache(Math.toIntExact(Math.min(capacity, Integer.MAX_VALUE / 2)));
        this.logitsName = model.lastLogits().name();
        this.pending = model.bos();
    }

    /** Upstream's length limit on the sequence a block may extend: {@code maxFrames / S · (S + 1)} (a float division). */
    private double lengthLimit() { return (double) maxFrames / blockSize * (blockSize + 1); }

    /** The most blocks the stop rule keeps. */
    public int maxKeptBlocks() { return (int) Math.floor((lengthLimit() - 1) / (blockSize + 1)) + 1; }

    /** Samples the next block: S tokens and {@code h}. Then {@link #accept} its latents, unless {@link Block#keep()} is false. */
    public Block nextBlock(Listener listener) {
        if (finished) throw new IllegalStateException("generation has ended (block " + (blocks - 1) + " was not kept)");
        if (pending == null) {
            throw new IllegalStateException("accept() the latents of block " + last.index() + " before sampling the next block");
        }
        int index = blocks++;
        PenaltyWindow window = sampler.windowForBlock(kept);
        INDArray x = pair(pending);                                              // [2, D]
        int[] tokens = new int[blockSize];
        INDArray embeddings = Nd4j.create(DataType.FLOAT, blockSize, model.config().dim());
        for (int k = 0; k < blockSize; k++) {
            INDArray out = logits(x);                                            // [2, P + 1]: cond, uncond
            SketchSampler.Step step = sampler.sample(out, window);
            tokens[k] = step.token();
            listener.onToken(new TokenEvent(index, k, step.token(), out, step));
            INDArray e = model.sketchEmbeddings(step.token());                  // [1, D]
            embeddings.putRow(k, e);
            x = pair(e);
        }
        INDArray h = model.decode(x, cache).getRow(0).dup();                    // conditional row only
        boolean eos = Arrays.stream(tokens).anyMatch(t -> t == model.vocabulary().eos());
        boolean overLength = sequenceLength > lengthLimit();
        last = new Block(index, tokens, embeddings, h, eos, overLength);
        pending = null;
        if (!last.keep()) finished = true;
        return last;
    }

    /**
     * Keeps the last block with its latents {@code [S, latent]} (frames × channels): its tokens join the penalty history and
     * {@code block_conv(latents)} becomes the next input.
     */
    public void accept(INDArray latents) {
        if (last == null || pending != null) throw new IllegalStateException("accept() follows nextBlock(), once per block");
        if (!last.keep()) throw new IllegalStateException("block " + last.index() + " ended generation (" + (last.eos() ? "EOS" : "length")
                + "); it cannot be kept");
        SongBloomConfig c = model.config();
        if (latents.rank() != 2 || latents.size(0) != c.blockSize() || latents.size(1) != c.latentDim()) {
            throw new IllegalArgumentException("block latents must be [" + c.blockSize() + ", " + c.latentDim() + "] (frames × channels), got "
                    + Arrays.toString(latents.shape()));
        }
        pending = model.blockConv(latents).getRow(0).dup();
        int[] next = Arrays.copyOf(kept, kept.length + blockSize);
        System.arraycopy(last.tokens(), 0, next, kept.length, blockSize);
        kept = next;
        keptLatents.add(latents.castTo(DataType.FLOAT).dup());
        sequenceLength += blockSize + 1;
    }

    /** Upstream's whole loop with {@code acoustic} as the DiT: blocks until one is dropped. */
    public Result run(AcousticModel acoustic, Listener listener) {
        SongBloomConfig c = model.config();
        INDArray previous = Nd4j.zeros(DataType.FLOAT, c.blockSize(), c.latentDim());
        while (true) {
            Block b = nextBlock(listener);
            INDArray z = acoustic.sample(b, previous);
            if (!b.keep()) break;
            accept(z);
            previous = keptLatents.get(keptLatents.size() - 1);
        }
        INDArray latents = keptLatents.isEmpty() ? previous : Nd4j.concat(0, keptLatents.toArray(new INDArray[0]));
        return new Result(kept.clone(), latents, blocks);
    }

    /** Sketch tokens of the kept blocks, in order. */
    public int[] keptTokens() { return kept.clone(); }

    public boolean finished() { return finished; }

    /** Positions in the KV cache (prefix included). */
    public int cachedPositions() { return cache.length(); }

    /**
     * The classifier output of the pair after feeding {@code x [2, D]}: the very first call also feeds the condition prefix (the fuser
     * prepends it on the first streaming call only) and runs the graph; later calls are single-token decode steps.
     */
    private INDArray logits(INDArray x) {
        if (cache.length() == 0) {
            INDArray first = Nd4j.concat(1, prefix, x.reshape(2, 1, x.size(1)));
            INDArray out = model.run(first, cache, logitsName).get(logitsName);
            model.lm().releaseWorkingMemory();                                  // the prefill's intermediates are not needed again
            return out;
        }
        return model.classify(model.decode(x, cache));
    }

    private static INDArray pair(INDArray row) {
        INDArray r = row.reshape(1, row.length());
        return Nd4j.concat(0, r, r);                                            // [2, D]: the same input for both CFG rows
    }

}
