package bloom4j.train.songbloom;

import bloom4j.nn.lora.PeftAdapter;

/**
 * Names of SongBloom's adapter tensors in the three places they live. PEFT wraps {@code MVSA_DiTAR} (module paths {@code <P>} =
 * {@code ar_transformer.layers.<i>.self_attn.q_proj}, ...), bloom4j builds it under the checkpoint's {@code model.} scope:
 * <pre>
 *   adapter file (PEFT save_pretrained)     base_model.model.&lt;P&gt;.lora_A.weight        ....lora_magnitude_vector
 *   Lightning state dict (in memory)        model.base_model.model.&lt;P&gt;.lora_A.default.weight   ....lora_magnitude_vector.default.weight
 *   bloom4j graph variable                  model.&lt;P&gt;.lora_A.weight                   model.&lt;P&gt;.lora_magnitude_vector
 * </pre>
 * (huggingface/peft@5d602fd {@code utils/save_and_load.py}: the adapter name {@code default} is removed on save.)
 */
public final class SongBloomAdapterNames {
    private SongBloomAdapterNames() {}

    /** The graph variable name of a file key or in-memory PEFT name; other names (full tensors) are returned unchanged. */
    public static String graphName(String key) {
        String k = key;
        if (k.startsWith("model." + PeftAdapter.PREFIX)) k = k.substring("model.".length());
        k = k.replace(".lora_magnitude_vector.default.weight", ".lora_magnitude_vector").replace(".default.weight", ".weight");
        if (k.startsWith(PeftAdapter.PREFIX)) return "model." + k.substring(PeftAdapter.PREFIX.length());
        return k;
    }
}
