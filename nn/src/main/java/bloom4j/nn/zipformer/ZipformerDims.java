package bloom4j.nn.zipformer;

/**
 * The sizes of one Zipformer layer (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/zipformer.py} {@code Zipformer2EncoderLayer}):
 * model dim, relative-position embedding dim, heads, per-head query/key, position and value dims, the feed-forward dim F (the three
 * feed-forward modules are {@code 3F/4}, {@code F} and {@code 5F/4} wide, integer division) and the depthwise kernel.
 */
public record ZipformerDims(int dim, int posDim, int heads, int queryHeadDim, int posHeadDim, int valueHeadDim, int feedforwardDim,
                            int kernel) {

    public ZipformerDims {
        if (dim <= 0 || posDim <= 0 || heads <= 0 || queryHeadDim <= 0 || posHeadDim <= 0 || valueHeadDim <= 0 || feedforwardDim <= 0) {
            throw new IllegalArgumentException("Zipformer sizes must be positive: " + this);
        }
        if (posDim % 2 != 0) throw new IllegalArgumentException("pos_dim must be even, got " + posDim);
        if (kernel < 1 || kernel % 2 == 0) throw new IllegalArgumentException("cnn_module_kernel must be odd, got " + kernel);
    }

    /** Width of {@code feed_forward1..3} ({@code i} = 1, 2, 3). */
    public int feedforward(int i) {
        return switch (i) {
            case 1 -> feedforwardDim * 3 / 4;
            case 2 -> feedforwardDim;
            case 3 -> feedforwardDim * 5 / 4;
            default -> throw new IllegalArgumentException("feed_forward" + i);
        };
    }

    /** NonlinAttention's hidden channels, {@code 3·dim/4}. */
    public int nonlinHidden() { return 3 * dim / 4; }

    public ZipformerDims withKernel(int k) {
        return new ZipformerDims(dim, posDim, heads, queryHeadDim, posHeadDim, valueHeadDim, feedforwardDim, k);
    }
}
