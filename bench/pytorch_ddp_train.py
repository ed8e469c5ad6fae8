#!/usr/bin/python3
"""PyTorch DDP side of the distributed training comparison (BENCHMARKS.md).

Trains LeNet-5 (or the MLP) on Fashion-MNIST data-parallel with N processes on
this machine, torch.distributed with the Gloo backend (the only one Debian's
torch has), DistributedDataParallel, each process torch.set_num_threads(T) and
1/N of the global batch, the same recipe as bench/pytorch_train.py. Warm-up
iterations are excluded from timing. Prints one JSON line (rank 0).
"""
import argparse
import json
import os
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

import pytorch_train as single


def worker(rank, a, x_train, y_train, x_test, y_test, port, queue):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=a.workers)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = single.LeNet5() if a.model == "lenet5" else single.mlp()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=a.lr, momentum=a.momentum)
    local = a.batch_size // a.workers
    n = len(x_train)
    gen = torch.Generator().manual_seed(a.seed)

    def step(xb, yb):
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(ddp(xb), yb)
        loss.backward()
        opt.step()
        return loss

    for i in range(a.warmup):
        step(x_train[i * local:(i + 1) * local], y_train[i * local:(i + 1) * local])
    iterations, t0 = 0, None
    dist.barrier()
    t0 = time.perf_counter()
    for epoch in range(a.epochs):
        perm = torch.randperm(n, generator=gen)  # the same on every rank
        per_iter = a.batch_size
        for i in range(0, n - per_iter + 1, per_iter):
            idx = perm[i + rank * local:i + (rank + 1) * local]
            loss = step(x_train[idx], y_train[idx])
            iterations += 1
            if a.max_iteration and iterations >= a.max_iteration:
                break
    dist.barrier()
    elapsed = time.perf_counter() - t0
    if rank == 0:
        top1, test_loss = single.evaluate(model, x_test, y_test, 1000)
        queue.put({"framework": "pytorch " + torch.__version__ + " DDP gloo", "model": a.model,
                   "workers": a.workers, "threads": a.threads, "batch_size": a.batch_size,
                   "iterations": iterations, "train_loss": loss.item(),
                   "train_samples_per_sec": iterations * a.batch_size / elapsed,
                   "test_top1": top1, "test_loss": test_loss})
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="lenet5", choices=["lenet5", "mlp"])
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-iteration", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--port", type=int, default=29533)
    a = p.parse_args()
    x_train, y_train = single.load(a.data, "train")
    x_test, y_test = single.load(a.data, "test")
    queue = mp.get_context("spawn").SimpleQueue()
    mp.spawn(worker, args=(a, x_train, y_train, x_test, y_test, a.port, queue), nprocs=a.workers)
    print(json.dumps(queue.get()))


if __name__ == "__main__":
    main()
