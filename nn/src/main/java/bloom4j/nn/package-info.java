/**
 * Reusable SameDiff layers for bloom4j's models (SongBloom's Llama and DiT, MuQ's Conformer, ZipVoice's Zipformer), knowing no model
 * family.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li><b>Parameters</b> come through a {@link bloom4j.nn.Scope}: a dotted path mirroring the checkpoint keys
 *       ({@code model.layers.3.self_attn.q_proj.weight}), which is also the SameDiff variable name. Shapes are checked on load, values
 *       converted to the graph dtype, and the {@link bloom4j.nn.LoadOptions} trainability policy makes each a frozen constant or a
 *       trainable variable. {@link bloom4j.nn.Params} reports consumed, unused, initialised and missing keys.</li>
 *   <li><b>Adapters</b> (LoRA/DoRA, {@code bloom4j.nn.lora}) plug in through {@link bloom4j.nn.LoadOptions#adapters}: every
 *       {@link bloom4j.nn.Linear#load} asks the policy whether its module is targeted, so model code is the same with or without
 *       them.</li>
 *   <li><b>Layouts</b> are PyTorch's: linear weights {@code [out, in]}, embeddings {@code [num, dim]}.</li>
 *   <li><b>Activations are rows</b> {@code [N, features]} (N = B·T) between layers, since SameDiff's mmul does not broadcast ranks;
 *       attention reshapes to heads through {@link bloom4j.nn.SeqShape}. Methods named {@code forwardRows} take rows. The audio
 *       layers ({@link bloom4j.nn.Conv1d}, {@link bloom4j.nn.ConvTranspose1d}, {@link bloom4j.nn.SnakeBeta}) take channels-first
 *       {@code [B, C, T]}, PyTorch's convolution layout; weight-normed convolutions ({@code weight_g}/{@code weight_v}) go
 *       through {@link bloom4j.nn.WeightNorm}.</li>
 *   <li><b>dtype</b>: FLOAT for inference and training, DOUBLE for gradient checks; fp16/bf16 are useless on CPU in ND4J M2.1.</li>
 *   <li><b>M2.1 traps avoided</b> (see the SameDiff field guide): reductions use explicit positive axes; no {@code sd.loss.*},
 *       {@code variance}, {@code layerNorm} (no eps), {@code batchNorm}, {@code dropout}, {@code cumsum} (axis ≠ 0), {@code splitV},
 *       {@code where} or differentiated {@code gather} on a differentiated path.</li>
 *   <li><b>Op count</b> is the cost of small graphs (tens of µs per op per call), so layers keep it low: fused q|k|v rotation,
 *       GQA without copying K/V, rotate_half as one matmul, shapes computed once per graph.</li>
 * </ul>
 */
package bloom4j.nn;
