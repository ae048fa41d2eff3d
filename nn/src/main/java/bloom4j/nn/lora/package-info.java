/**
 * LoRA, rsLoRA and DoRA on any {@link bloom4j.nn.Linear} of any bloom4j model, numerically PEFT's (peft@5d602fd; specification in
 * huggingface/peft@5d602fd {@code src/peft/tuners/lora/layer.py}, {@code dora.py}), with PEFT's adapter folders.
 *
 * <ul>
 *   <li>{@link bloom4j.nn.lora.LoraConfig}: PEFT's {@code LoraConfig} and its {@code adapter_config.json};
 *       {@link bloom4j.nn.lora.TargetSelector}: PEFT's rules for which module gets which rank and alpha.</li>
 *   <li>{@link bloom4j.nn.lora.LoraAdapters}: the {@link bloom4j.nn.LinearAdapters} policy a model is built with
 *       ({@code LoadOptions.adapters}); it wraps targeted linears in {@link bloom4j.nn.lora.LoraLinear}, the layer, and afterwards
 *       saves, merges and reports them. Model code does not change.</li>
 *   <li>{@link bloom4j.nn.lora.PeftAdapter}: {@code adapter_config.json} + {@code adapter_model.safetensors} with PEFT's key names,
 *       so adapters move between bloom4j and PEFT in both directions.</li>
 *   <li>{@link bloom4j.nn.lora.PeftLinearParity}: the parity kinds {@code lora-linear}, {@code dora-linear}, {@code dora-dropout}.</li>
 * </ul>
 *
 * <p>The format code lives here rather than in {@code train} because nothing in it is about training: inference loads adapters (and
 * merges them) through the same classes, and {@code infer} must not depend on {@code train}.
 */
package bloom4j.nn.lora;
