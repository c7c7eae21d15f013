# ATTACK: bypass the seccomp filter through the i386 ABI: `int 0x80` from
# 64-bit code enters the 32-bit syscall table, where numbers mean different
# calls.  The machine code (mov eax, 20 = i386 getpid; int 0x80; ret) is run
# from an executable anonymous mapping via ctypes.
# MUST HAPPEN: the filter kills the process for the foreign architecture:
# status "killed" with SIGSYS, nothing printed after "before".
import ctypes
import mmap

code = b"\xb8\x14\x00\x00\x00\xcd\x80\xc3"
page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(code)
func = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
print("before", flush=True)
print(f"int 0x80 getpid returned {func()} (it must not return)", flush=True)
