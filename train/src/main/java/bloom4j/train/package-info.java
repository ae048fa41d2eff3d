/**
 * Fine-tuning machinery, model-agnostic: a {@link bloom4j.train.Trainer} runs the manual SameDiff loop (micro-batch gradient
 * accumulation, global-norm clipping, {@link bloom4j.train.AdamW} with decoupled weight decay, {@link bloom4j.train.WarmupCosine}
 * schedule) over whatever a graph makes trainable — usually the LoRA/DoRA adapters of {@code bloom4j.nn.lora} — with a
 * {@link bloom4j.train.CrossEntropy} whose gradient is right and a {@link bloom4j.train.GradientGuard} that stops runs whose adapters
 * get no gradient. {@link bloom4j.train.LoraPresets} names the adapter configurations known to work for SongBloom and ZipVoice.
 */
package bloom4j.train;
