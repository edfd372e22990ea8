func.func @f(%x: tensor<2x9xf32>, %w: tensor<4x8xf32>) -> tensor<2x4xf32> {
  %y = llm.linear %x, %w : (tensor<2x9xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
