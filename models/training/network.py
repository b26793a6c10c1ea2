"""The patch-to-pixel CNN of Kristollari & Karathanassi (2020) as a PyTorch module."""

import torch
from torch import nn

from algorithms.core.detection.contract import VARIANTS

DEFAULT_FILTERS = (8, 16, 32)
# The paper trained in Keras, whose LeakyReLU slope defaults to 0.3 (PyTorch's is 0.01).
LEAKY_SLOPE = 0.3
HIDDEN = 50
DROPOUT = 0.3


class CloudCnn(nn.Module):
    """Three [3x3 conv 'same' -> activation -> 2x2 max pool] blocks, FC 50, FC 50, 1 output.

    The input is reflectance (unit 1); the per-band normalisation (x - mean) / std is a
    fixed part of the module (buffers), so the exported graph takes plain reflectance.
    `forward` returns the logit; the sigmoid is applied by the loss in training and by
    `ExportGraph` in the ONNX file.
    """

    def __init__(self, band_mean, band_std, filters=DEFAULT_FILTERS, variant='leakyrelu',
                 patch_size=16):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f'variant must be one of {VARIANTS}, not {variant!r}')
        if patch_size % 2 ** len(filters):
            raise ValueError(f'patch size {patch_size} cannot be halved {len(filters)} times')
        self.variant, self.filters, self.patch_size = variant, tuple(filters), patch_size
        self.register_buffer('band_mean', _as_column(band_mean))
        self.register_buffer('band_std', _as_column(band_std))
        batch_norm = variant == 'bn_leakyrelu'
        widths = [len(band_mean), *self.filters]
        self.convs = nn.ModuleList(
            nn.Conv2d(cin, cout, 3, padding=1, bias=not batch_norm)
            for cin, cout in zip(widths[:-1], widths[1:]))
        self.norms = nn.ModuleList(
            nn.BatchNorm2d(c) if batch_norm else nn.Identity() for c in self.filters)
        self.activation = nn.ReLU() if variant == 'relu' else nn.LeakyReLU(LEAKY_SLOPE)
        self.pool = nn.MaxPool2d(2)
        side = patch_size // 2 ** len(self.filters)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(self.filters[-1] * side * side, HIDDEN), nn.ReLU(),
            nn.Dropout(DROPOUT), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Dropout(DROPOUT),
            nn.Linear(HIDDEN, 1))
        _glorot(self)

    def blocks(self, patches):
        """Run the conv blocks; return (pooled output, activations, pre-activations)."""
        x = (patches - self.band_mean) / self.band_std
        activated, linear = [], []
        for conv, norm in zip(self.convs, self.norms):
            pre = norm(conv(x))
            post = self.activation(pre)
            linear.append(pre)
            activated.append(post)
            x = self.pool(post)
        return x, activated, linear

    def forward(self, patches):
        """Return the cloud logit [N, 1] of each patch's centre pixel."""
        return self.head(self.blocks(patches)[0])


class ExportGraph(nn.Module):
    """What the ONNX file computes: P(cloud), then each conv's activations and pre-activations."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, patches):
        """Return (probability [N, 1], conv1..convK, conv1_linear..convK_linear)."""
        pooled, activated, linear = self.model.blocks(patches)
        return (torch.sigmoid(self.model.head(pooled)), *activated, *linear)


def _as_column(values):
    return torch.as_tensor(values, dtype=torch.float32).reshape(1, -1, 1, 1).clone()


def _glorot(module):
    # Keras' default initialisation (Glorot uniform, zero bias), as the paper's model had.
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)

