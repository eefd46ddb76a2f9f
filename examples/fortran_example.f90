! examples/fortran_example.f90 - the qifsim C API from Fortran (iso_c_binding).
!
! N = 5 uncoupled QIF neurons with eta = -5 and a constant input 15: runs 2000 steps,
! records the neuron-averaged v every 10th step and prints the last sample.
!   gfortran fortran_example.f90 -lqifsim_c      (or CMake: link qifsim::qifsim_c)
module qifsim_c
  use iso_c_binding
  implicit none
  interface
    integer(c_int) function qifsim_create(dt, backend, precision, sim) bind(c, name="qifsim_create")
      import :: c_int, c_double, c_char, c_ptr
      real(c_double), value :: dt
      character(kind=c_char), dimension(*) :: backend, precision
      type(c_ptr) :: sim
    end function
    integer(c_int) function qifsim_add_population(sim, name, n, weights, adaptation) &
        bind(c, name="qifsim_add_population")
      import :: c_int, c_int64_t, c_char, c_ptr
      type(c_ptr), value :: sim, weights
      character(kind=c_char), dimension(*) :: name
      integer(c_int64_t), value :: n
      integer(c_int), value :: adaptation
    end function
    integer(c_int) function qifsim_set_var(sim, node, var, values, count) bind(c, name="qifsim_set_var")
      import :: c_int, c_int64_t, c_char, c_ptr, c_double
      type(c_ptr), value :: sim
      character(kind=c_char), dimension(*) :: node, var
      real(c_double), dimension(*) :: values
      integer(c_int64_t), value :: count
    end function
    integer(c_int) function qifsim_compile(sim) bind(c, name="qifsim_compile")
      import :: c_int, c_ptr
      type(c_ptr), value :: sim
    end function
    integer(c_int) function qifsim_add_record_var(sim, node, var, mean) bind(c, name="qifsim_add_record_var")
      import :: c_int, c_char, c_ptr
      type(c_ptr), value :: sim
      character(kind=c_char), dimension(*) :: node, var
      integer(c_int), value :: mean
    end function
    integer(c_int) function qifsim_set_sampling(sim, sampling_steps, cutoff) bind(c, name="qifsim_set_sampling")
      import :: c_int, c_int64_t, c_ptr
      type(c_ptr), value :: sim
      integer(c_int64_t), value :: sampling_steps, cutoff
    end function
    integer(c_int) function qifsim_run(sim, inputs, steps, width) bind(c, name="qifsim_run")
      import :: c_int, c_int64_t, c_ptr, c_double
      type(c_ptr), value :: sim
      real(c_double), dimension(*) :: inputs
      integer(c_int64_t), value :: steps, width
    end function
    integer(c_int) function qifsim_samples(sim, samples) bind(c, name="qifsim_samples")
      import :: c_int, c_int64_t, c_ptr
      type(c_ptr), value :: sim
      integer(c_int64_t) :: samples
    end function
    integer(c_int) function qifsim_copy_series(sim, key, out, capacity) bind(c, name="qifsim_copy_series")
      import :: c_int, c_int64_t, c_char, c_ptr, c_double
      type(c_ptr), value :: sim
      character(kind=c_char), dimension(*) :: key
      real(c_double), dimension(*) :: out
      integer(c_int64_t), value :: capacity
    end function
    type(c_ptr) function qifsim_last_error() bind(c, name="qifsim_last_error")
      import :: c_ptr
    end function
    subroutine qifsim_destroy(sim) bind(c, name="qifsim_destroy")
      import :: c_ptr
      type(c_ptr), value :: sim
    end subroutine
  end interface
contains
  ! Stop with qifsim's message when a call failed.
  subroutine check(status, what)
    integer(c_int), intent(in) :: status
    character(len=*), intent(in) :: what
    character(kind=c_char), pointer :: msg(:)
    integer :: n
    if (status == 0) return
    call c_f_pointer(qifsim_last_error(), msg, [4096])
    n = 0
    do while (msg(n + 1) /= c_null_char)
      n = n + 1
    end do
    print '(a, " failed: ", 4096a)', what, msg(1:n)
    stop 1
  end subroutine
end module

program fortran_example
  use qifsim_c
  implicit none
  integer(c_int64_t), parameter :: n = 5, steps = 2000
  type(c_ptr) :: sim
  real(c_double) :: inputs(n * steps), eta(1)
  real(c_double), allocatable :: v(:)
  integer(c_int64_t) :: samples

  sim = c_null_ptr
  eta = -5.0d0
  inputs = 15.0d0
  call check(qifsim_create(1d-3, "auto" // c_null_char, "float64" // c_null_char, sim), "qifsim_create")
  call check(qifsim_add_population(sim, "qif" // c_null_char, n, c_null_ptr, 0), "qifsim_add_population")
  call check(qifsim_set_var(sim, "qif" // c_null_char, "eta" // c_null_char, eta, 1_c_int64_t), "qifsim_set_var")
  call check(qifsim_compile(sim), "qifsim_compile")
  call check(qifsim_add_record_var(sim, "qif" // c_null_char, "v" // c_null_char, 1), "qifsim_add_record_var")
  call check(qifsim_set_sampling(sim, 10_c_int64_t, 0_c_int64_t), "qifsim_set_sampling")
  call check(qifsim_run(sim, inputs, steps, n), "qifsim_run")
  call check(qifsim_samples(sim, samples), "qifsim_samples")
  allocate(v(samples))
  call check(qifsim_copy_series(sim, "qif.v" // c_null_char, v, samples), "qifsim_copy_series")
  print '("samples: ", i0, ", mean v at the last sample: ", f10.4)', samples, v(samples)
  call qifsim_destroy(sim)
end program
