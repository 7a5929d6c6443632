"""The DCGAN training step on tiny tensors: a ConvTranspose2d generator (BatchNorm2d, ReLU, Tanh) and a Conv2d
discriminator (LeakyReLU(0.2), BatchNorm2d, Sigmoid), weights_init through model.apply with nn.init.normal_,
BCELoss with real/fake labels filled in place, Adam(betas=(0.5, 0.999)), fake.detach() for the D step."""
import torch
import torch.nn as nn

torch.manual_seed(999)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
nz, ngf, ndf, nc = 4, 6, 6, 1


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),   # 1x1 -> 4x4
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),   # 4x4 -> 8x8
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),                # 8x8 -> 4x4
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 2, 2, 0, bias=False),           # 4x4 -> 2x2
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 2, 1, 0, bias=False),             # 2x2 -> 1x1
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input)


netG = Generator().to(device)
netG.apply(weights_init)
netD = Discriminator().to(device)
netD.apply(weights_init)
print(netG)
print(netD)

criterion = nn.BCELoss()
fixed_noise = torch.randn(4, nz, 1, 1, device=device)
real_label, fake_label = 1.0, 0.0
optimizerD = torch.optim.Adam(netD.parameters(), lr=0.002, betas=(0.5, 0.999))
optimizerG = torch.optim.Adam(netG.parameters(), lr=0.002, betas=(0.5, 0.999))

# "real" data: bright centre squares
real_data = -torch.ones(32, 1, 8, 8)
real_data[:, :, 2:6, 2:6] = 1.0
real_data += 0.1 * torch.randn_like(real_data)

b_size = 8
for i in range(12):
    real = real_data[(i * b_size) % 32:(i * b_size) % 32 + b_size].to(device)
    # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
    netD.zero_grad()
    label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
    output = netD(real).view(-1)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    noise = torch.randn(b_size, nz, 1, 1, device=device)
    fake = netG(noise)
    label.fill_(fake_label)
    output = netD(fake.detach()).view(-1)
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optimizerD.step()
    # (2) Update G: maximize log(D(G(z)))
    netG.zero_grad()
    label.fill_(real_label)
    output = netD(fake).view(-1)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optimizerG.step()
    if i % 3 == 0:
        print(f"[{i}/12] Loss_D: {errD.item():.4f} Loss_G: {errG.item():.4f} "
              f"D(x): {D_x:.4f} D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}")

with torch.no_grad():
    netG.eval()
    fake = netG(fixed_noise).detach().cpu()
print(fake.shape, f"{fake.mean().item():.4f}")
print(fake[0, 0, 3].round(decimals=3))
for net in (netG, netD):
    for name, p in net.named_parameters():
        print(f"{type(net).__name__}.{name} {p.abs().sum().item():.5g}")
