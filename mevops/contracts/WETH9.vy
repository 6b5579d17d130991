#pragma version ~=0.4.3
#pragma evm-version cancun
#pragma optimize gas
"""
@title WETH9
@notice Wrapped ether with WETH9's interface and semantics: deposit (also the
        payable default function), withdraw, totalSupply == this.balance, an
        allowance of max(uint256) is never decreased, and transferFrom by the
        owner itself needs no allowance.
"""

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event Deposit:
    dst: indexed(address)
    wad: uint256

event Withdrawal:
    src: indexed(address)
    wad: uint256

name: public(constant(String[32])) = "Wrapped Ether"
symbol: public(constant(String[16])) = "WETH"
decimals: public(constant(uint8)) = 18
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])


@internal
@payable
def _deposit():
    self.balanceOf[msg.sender] = unsafe_add(self.balanceOf[msg.sender], msg.value)
    log Deposit(dst=msg.sender, wad=msg.value)


@external
@payable
def __default__():
    self._deposit()


@external
@payable
def deposit():
    self._deposit()


@external
def withdraw(wad: uint256):
    balance: uint256 = self.balanceOf[msg.sender]
    assert balance >= wad, "insufficient balance"
    self.balanceOf[msg.sender] = unsafe_sub(balance, wad)
    send(msg.sender, wad)
    log Withdrawal(src=msg.sender, wad=wad)


@view
@external
def totalSupply() -> uint256:
    return self.balance


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    balance: uint256 = self.balanceOf[sender]
    assert balance >= amount, "insufficient balance"
    self.balanceOf[sender] = unsafe_sub(balance, amount)
    self.balanceOf[receiver] = unsafe_add(self.balanceOf[receiver], amount)
    log Transfer(sender=sender, receiver=receiver, value=amount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    if sender != msg.sender:
        allowed: uint256 = self.allowance[sender][msg.sender]
        if allowed != max_value(uint256):
            assert allowed >= amount, "insufficient allowance"
            self.allowance[sender][msg.sender] = unsafe_sub(allowed, amount)
    self._transfer(sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True
