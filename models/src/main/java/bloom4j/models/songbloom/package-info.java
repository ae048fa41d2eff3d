/**
 * SongBloom (tencent-ailab/SongBloom@ef78022): lyrics and a 10 s prompt in, a 48 kHz song out, block by block.
 *
 * <h2>Reading order</h2>
 * Generation runs top to bottom through these classes; each names the upstream function it reproduces.
 * <ol>
 *   <li>{@link bloom4j.models.songbloom.SongGenerator}: the service API. {@link bloom4j.models.songbloom.SongBloomLoader} loads
 *       a converted model folder once ({@link bloom4j.tensor.io.ModelFolder}: config.json read once,
 *       {@link bloom4j.models.songbloom.SongBloomConfig} resolved against the weights, {@link bloom4j.models.songbloom.InferenceConfig}
 *       for the defaults, an optional LoRA merged, the VAE and its config); the generator turns a request into settings, a
 *       prompt at the VAE rate and per-sample seeds. Upstream {@code infer.py} and
 *       {@code SongBloom_Sampler.generate} ({@code songbloom_pl.py} L121-143).</li>
 *   <li>{@link bloom4j.models.songbloom.SongBloomModel}: the three parts and the block loop of {@code MVSA_DiTAR.generate}
 *       ({@code songbloom_mvsa.py} L355-554): encode the prompt with the VAE, build the conditions, then per block ask the AR
 *       for sketch tokens and a hidden state, let the DiT sample the block's latents, feed them back; decode at the end.
 *       {@code load} ends with one completeness report: every {@code model.} tensor is read by some part.</li>
 *   <li>Conditions: {@link bloom4j.models.songbloom.LyricTokenizer} and {@link bloom4j.models.songbloom.LyricConditioner}
 *       ({@code PhonemeTokenizerConditioner}, {@code conditioners/text.py} L145-254), {@link bloom4j.models.songbloom.PromptConditioner}
 *       ({@code AudioTokenizerConditioner}, {@code conditioners/wav.py}).</li>
 *   <li>{@link bloom4j.models.songbloom.SketchGenerator}: the AR half of the loop with its KV cache over the CFG pair
 *       ({@code _sample_next_block}), drawing each token with {@link bloom4j.models.songbloom.SketchSampler} (CFG, repetition
 *       penalty over a {@link bloom4j.models.songbloom.PenaltyWindow}, temperature, top-k, {@code multinomial} from a
 *       {@link bloom4j.models.songbloom.NoiseSource}).</li>
 *   <li>{@link bloom4j.models.songbloom.SongBloomAr}: the AR model itself (sketch embedding, BOS, {@code block_conv}, classifier)
 *       around a LLaMA: {@link bloom4j.models.llama.LlamaGraph} (one graph for prefill and decode over a KV cache) with
 *       {@link bloom4j.models.llama.LlamaDecodeKernel} as the fast single-token path, both built from
 *       {@link bloom4j.models.llama.LlamaDecoder} (HF {@code LlamaModel}, transformers 4.44.1 {@code modeling_llama.py}).
 *       {@link bloom4j.models.songbloom.SongBloomArTraining} is the teacher-forced view of the same weights for fine-tuning
 *       ({@code MVSA_DiTAR.forward}, L176-272).</li>
 *   <li>{@link bloom4j.models.songbloom.dit.LocalDit} ({@code diffusion_forward}, L309-351, over a {@code ContinuousTransformer})
 *       and {@link bloom4j.models.songbloom.dit.FlowSampler} ({@code sample_discrete_euler_with_temperature},
 *       {@code musicldm/inference/sampling.py} L51-83).</li>
 *   <li>{@link bloom4j.models.vae.StableVae} around {@link bloom4j.models.vae.OobleckVae} ({@code vae_frontend}, the
 *       stable-audio-tools Oobleck autoencoder).</li>
 * </ol>
 *
 * <h2>Sizes and vocabularies</h2>
 * {@link bloom4j.models.songbloom.SongBloomConfig} (the YAML's {@code model:} block, each value checked against the tensor that
 * also fixes it), {@link bloom4j.models.songbloom.SketchVocabulary} (codes, EOS, the special id) and
 * {@link bloom4j.models.songbloom.LyricVocabulary} (the phoneme table).
 *
 * <h2>Parity</h2>
 * {@code SongBloomArParity}, {@code SongBloomLyricsParity}, {@code SongBloomGenerateParity} and {@code dit.SongBloomDitParity}
 * run the fixtures recorded from the upstream code ({@code bloom4j parity DIR}).
 */
package bloom4j.models.songbloom;
