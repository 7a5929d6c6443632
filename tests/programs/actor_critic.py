"""Actor-critic in the style of pytorch/examples' reinforcement_learning/actor_critic.py, on a toy environment
written with tensors (walk along a line to a goal): a shared body with an action head and a value head,
torch.distributions.Categorical for sampling and log_prob, discounted returns normalised with eps, a policy loss
plus smooth_l1_loss on the values, Adam; then the greedy policy's walk."""
from collections import namedtuple

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

torch.manual_seed(543)
SavedAction = namedtuple("SavedAction", ["log_prob", "value"])
gamma, eps = 0.95, torch.finfo(torch.float32).eps


class LineWorld:
    """Positions 0..6, start at 1, goal at 5: actions left/stay/right, reward -0.1 a step and +1 at the goal."""
    def reset(self):
        self.pos = 1
        return self.state()

    def state(self):
        return F.one_hot(torch.tensor(self.pos), 7).float()

    def step(self, action):
        self.pos = min(6, max(0, self.pos + action - 1))
        done = self.pos == 5
        return self.state(), (1.0 if done else -0.1), done


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.affine1 = nn.Linear(7, 16)
        self.action_head = nn.Linear(16, 3)
        self.value_head = nn.Linear(16, 1)
        self.saved_actions = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        return F.softmax(self.action_head(x), dim=-1), self.value_head(x)


model = Policy()
optimizer = optim.Adam(model.parameters(), lr=1e-2)
env = LineWorld()


def select_action(state):
    probs, state_value = model(state)
    m = Categorical(probs)
    action = m.sample()
    model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
    return action.item()


def finish_episode():
    R = 0
    policy_losses, value_losses, returns = [], [], []
    for r in model.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for (log_prob, value), R in zip(model.saved_actions, returns):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage)
        value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
    optimizer.zero_grad()
    loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
    loss.backward()
    optimizer.step()
    del model.rewards[:]
    del model.saved_actions[:]
    return loss


for i_episode in range(1, 41):
    state, ep_reward = env.reset(), 0.0
    for t in range(1, 20):
        action = select_action(state)
        state, reward, done = env.step(action)
        model.rewards.append(reward)
        ep_reward += reward
        if done:
            break
    loss = finish_episode()
    if i_episode % 8 == 0:
        print(f"Episode {i_episode}\tLength: {t}\tReward: {ep_reward:.2f}\tLoss: {loss.item():.4f}")

with torch.no_grad():
    probs, value = model(env.reset())
    dist = Categorical(probs=probs)
    print(probs.round(decimals=4), value, dist.entropy(), dist.log_prob(torch.tensor(2)))
    path = [env.pos]
    for _ in range(6):
        _, _, done = env.step(model(env.state())[0].argmax().item())
        path.append(env.pos)
        if done:
            break
print("greedy path", path)
for name, p in model.named_parameters():
    print(f"{name} {p.abs().sum().item():.5g}")
