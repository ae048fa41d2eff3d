package bloom4j.models.vq;

import java.util.Locale;

/**
 * How a vector is matched to a code, as vector-quantize-pytorch 1.14.8 does it ({@code vector_quantize_pytorch.py}).
 * <ul>
 *   <li>{@link #EUCLIDEAN} ({@code EuclideanCodebook}): score = {@code -sqrt(clamp(|x|² + |e|² − 2·x·e, min 0))}, the expanded form
 *       of the distance (L29-33), so near-ties resolve as upstream does;</li>
 *   <li>{@link #COSINE} ({@code CosineSimCodebook}, {@code use_cosine_sim=True}): x is l2-normalised ({@code F.normalize}, eps 1e-12),
 *       the codes are kept l2-normalised, score = {@code x̂·e}.</li>
 * </ul>
 * The chosen code is the first maximum of the score ({@code torch.argmax}).
 */
public enum Distance {
    EUCLIDEAN, COSINE;

    /** The name used in files and on the command line. */
    public String id() { return name().toLowerCase(Locale.ROOT); }

    public static Distance parse(String s) {
        for (Distance d : values()) if (d.id().equalsIgnoreCase(s.trim())) return d;
        throw new IllegalArgumentException("unknown distance '" + s + "': expected euclidean or cosine");
    }
}
