package bloom4j.models.muq;

import bloom4j.nn.BatchNorm;
import bloom4j.nn.Conv2d;
import bloom4j.nn.Linear;
import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * MuQ's convolutional subsampling stem (tencent-ailab/MuQ@d4a6658 {@code src/muq/muq/modules/conv.py}, {@code Conv2dSubsampling(1,
 * conv_dim, encoder_dim, strides=[2, 2], n_bands=128)}). The mel is an image {@code [B, 1, 128 freq, T time]}:
 * <pre>
 *   Res2dModule(i → o, stride (2, 2)):                         keys conv.{0,1}.{conv1,bn1,conv2,bn2,conv3,bn3}
 *     a   = relu(bn1(conv1_3x3/s2(x)));  b = bn2(conv2_3x3(a))
 *     out = relu(b + bn3(conv3_3x3/s2(x)))                      (the shortcut is a 3×3 conv, present since stride > 1)
 *   x   = Res2dModule(1 → c)(mel)   [B, c, 64, ⌈T/2⌉]
 *   x   = Res2dModule(c → c)(x)     [B, c, 32, T']
 *   out = linear(rearrange(x, "b c f t -> b t (c f)"))          [B·T', encoder_dim], feature index c·32 + f
 * </pre>
 * BatchNorm runs with its running statistics (eval). Every output depends on mel frames within ±9 of its centre (4t), which lets
 * {@link MuqEncoder} run long inputs in chunks with a 12-frame halo and get exactly the unchunked result.
 */
final class ConvStem {
    /** Mel frames of context that make a chunked stem exact (receptive field ±9, rounded up to the stride product 4). */
    static final int HALO = 12;

    private final Block[] blocks;
    private final Linear linear;
    private final MuqConfig cfg;

    private ConvStem(Block[] blocks, Linear linear, MuqConfig cfg) {
        this.blocks = blocks;
        this.linear = linear;
        this.cfg = cfg;
    }

    /** {@code s} is the stem's scope ({@code model.conv}). */
    static ConvStem load(Scope s, MuqConfig c) {
        Block b0 = Block.load(s.pp("conv").pp(0), 1, c.convDim(), c);
        Block b1 = Block.load(s.pp("conv").pp(1), c.convDim(), c.convDim(), c);
        return new ConvStem(new Block[] {b0, b1}, Linear.load(s.pp("linear"), c.stemFeatures(), c.encoderDim(), true), c);
    }

    /** {@code mel [1, 1, n_mels, T]} → block outputs and the rows {@code [T', encoder_dim]}. */
    SDVariable[] forward(SDVariable mel) {
        SDVariable x0 = blocks[0].forward(mel);                                   // [1, c, 64, ⌈T/2⌉]
        SDVariable x1 = blocks[1].forward(x0);                                    // [1, c, 32, T']
        SDVariable rows = x1.permute(0, 3, 1, 2).reshape(-1, cfg.stemFeatures()); // "b c f t -> (b t) (c f)"
        return new SDVariable[] {x0, x1, linear.forwardRows(rows)};
    }

    /** {@code Res2dModule}: two 3×3 convolutions with BatchNorm and a 3×3 convolutional shortcut. */
    private record Block(Conv2d conv1, BatchNorm bn1, Conv2d conv2, BatchNorm bn2, Conv2d conv3, BatchNorm bn3) {
        static Block load(Scope s, int in, int out, MuqConfig c) {
            double eps = 1e-5;   // nn.BatchNorm2d default
            Conv2d conv3 = s.has("conv3.weight") ? Conv2d.load(s.pp("conv3"), in, out, 3, 2, 2, 1, 1, true) : null;
            if (conv3 == null) {
                throw new IllegalArgumentException("missing '" + s.key("conv3.weight") + "': MuQ's stride-2 Res2dModule always has its "
                        + "3×3 shortcut convolution");
            }
            return new Block(Conv2d.load(s.pp("conv1"), in, out, 3, 2, 2, 1, 1, true), BatchNorm.load(s.pp("bn1"), out, eps),
                    Conv2d.load(s.pp("conv2"), out, out, 3, 1, 1, 1, 1, true), BatchNorm.load(s.pp("bn2"), out, eps),
                    conv3, BatchNorm.load(s.pp("bn3"), out, eps));
        }

        SDVariable forward(SDVariable x) {
            var sd = x.getSameDiff();
            SDVariable a = sd.nn.relu(bn1.forward(conv1.forward(x), 1, 4), 0);
            SDVariable b = bn2.forward(conv2.forward(a), 1, 4);
            return sd.nn.relu(b.add(bn3.forward(conv3.forward(x), 1, 4)), 0);
        }
    }
}
