import torch, torch.nn as nn
from torch.profiler import profile, ProfilerActivity
layer = nn.TransformerEncoderLayer(d_model=768, nhead=12, dim_feedforward=3072, dropout=0.0, batch_first=True).cuda()
x = torch.randn(16, 512, 768, device="cuda")
def step():
    layer.zero_grad(set_to_none=True); layer(x).mean().backward()
for _ in range(3): step()
torch.cuda.synchronize()
with profile(activities=[ProfilerActivity.CUDA]) as p:
    for _ in range(5): step()
    torch.cuda.synchronize()
print(p.key_averages().table(sort_by="cuda_time_total", row_limit=35, max_name_column_width=80))
