"""On a CUDA machine: the deconvnet and receptive fields give the CPU's answers (python -m bench.cuda_check)."""

import torch

import deconvviz
from deconvviz.engine.deconv import project
from deconvviz.engine.receptive_field import receptive_fields


def main() -> None:
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}")
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    for name, layer in [("zfnet", "features.14"), ("torchvision:alexnet", "features.12"),
                        ("torchvision:resnet18", "layer3.1"), ("zf-fmnist", "features.6")]:
        torch.manual_seed(0)
        cpu = deconvviz.load_model(name)
        gpu = deconvviz.load_model(name)
        gpu.net.load_state_dict(cpu.net.state_dict())
        gpu.to("cuda")
        h, w = cpu.preprocessing.size
        x = torch.randn(1, cpu.preprocessing.channels, h, w)
        for mode in ("deconvnet", "guided", "backprop"):
            a = project(cpu.net, x, layer, 3, mode=mode, top_k=4)
            b = project(gpu.net, x.cuda(), layer, 3, mode=mode, top_k=4)
            err = float((a.images - b.images.cpu()).abs().max() / a.images.abs().max())
            same = a.positions == b.positions
            print(f"{name:<22} {layer:<12} {mode:<9} positions equal: {same}  max rel diff {err:.2e}")
        assert receptive_fields(gpu.net, tuple(x.shape), layer, [(1, 1)]) == receptive_fields(cpu.net, tuple(x.shape), layer, [(1, 1)])
    print("receptive fields equal on CUDA and CPU")


if __name__ == "__main__":
    main()
